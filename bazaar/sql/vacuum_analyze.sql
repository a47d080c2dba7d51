-- After a copy is masked (bazaar backup stage): the rewritten rows' dead versions gone, fresh statistics.
vacuum analyze;
