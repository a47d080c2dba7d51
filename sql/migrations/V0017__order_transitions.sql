-- One word, one meaning: `*_transitions` are a state machine's legal moves and
-- `*_status_history` what happened, for orders as for listings. core.order_transitions held the
-- history while the legal moves were written into core.close_order; the history is renamed, and
-- the moves become rows that core.close_order reads.

alter table core.order_transitions rename to order_status_history;
alter table core.order_status_history rename constraint pk_order_transitions to pk_order_status_history;
alter table core.order_status_history
rename constraint fk_order_transitions_order_id_orders to fk_order_status_history_order_id_orders;
alter table core.order_status_history
rename constraint fk_order_transitions_changed_by_users to fk_order_status_history_changed_by_users;
alter table core.order_status_history
rename constraint check_order_transitions_reason_length to check_order_status_history_reason_length;
alter index core.index_order_transitions_on_order_id rename to index_order_status_history_on_order_id;
alter index core.index_order_transitions_on_changed_by rename to index_order_status_history_on_changed_by;
alter sequence core.order_transitions_id_seq rename to order_status_history_id_seq;
comment on table core.order_status_history is
'Every status change of every order: from, to, when, who, why.';

create table core.order_transitions (
    from_status core.order_status not null,
    to_status core.order_status not null,
    constraint pk_order_transitions primary key (from_status, to_status)
);
comment on table core.order_transitions is
'The legal moves of the order status machine; anything else raises 55000.';

insert into core.order_transitions (from_status, to_status) values
('reserved', 'paid'), ('reserved', 'cancelled'), ('reserved', 'expired');

comment on type core.order_status is
'Where an order is in its life; legal moves are rows of core.order_transitions.';
