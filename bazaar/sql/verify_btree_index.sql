-- amcheck: the index's structure, and that every heap tuple is in it.
select ext.bt_index_check(%(index)s::regclass, true);
