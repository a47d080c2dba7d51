-- amcheck: how many corrupt tuples or pages the table's heap and TOAST have.
select count(*)
from ext.verify_heapam(%(heap)s::regclass, check_toast => true);
