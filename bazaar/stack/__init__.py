"""The local stack: etcd, three Patroni nodes (PostgreSQL 15), HAProxy and PgBouncer under one
supervisord, with its state under BAZAAR_HOME. Its configs are templates in ``patroni/``.

Modules, from the machine up:

- ``processes``: run a program, poll with a deadline, PIDs of PostgreSQL and its children;
- ``host``: the postgres OS user and what it owns, /var/lib/bazaar, PostgreSQL's bindir;
- ``daemon_venv``: the shared venv the daemons (Patroni) run from;
- ``layout``: the node names and where things are under a server root;
- ``users``: the stack's roles and service users;
- ``templates``: filling a template, and what the configs are rendered from (Context);
- ``programs``: the programs supervisord runs (PROGRAMS) and the files rendered for them —
  its docstring says how to add one;
- ``supervisor``: supervisord and supervisorctl;
- ``patroni``: Patroni's timing and REST API;
- ``haproxy``: HAProxy's config (also docker-compose's) and its routing;
- ``pgbouncer``: PgBouncer's auth_file and console;
- ``cluster``: Cluster, the handle on a running stack, and the operator commands;
- ``local``: LocalStack, the stack of BAZAAR_HOME (`bazaar up | down | status | dsn`).
"""
