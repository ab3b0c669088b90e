-- Events get their IDs per tenant in commit order, so a watcher that resumes after the
-- last ID it saw misses nothing: a counter row per tenant is bumped in the writing
-- transaction and stays locked until it commits, so a higher ID never commits before a
-- lower one. Retention purges old events; purged_through tells a too-old cursor apart.

create table event_counters (
  tenant_id      text primary key references tenants (tenant_id),
  last_event_id  bigint not null default 0,
  purged_through bigint not null default 0
);
insert into event_counters (tenant_id, last_event_id)
select t.tenant_id, coalesce((select max(e.event_id) from events e where e.tenant_id = t.tenant_id), 0) from tenants t;

alter table events alter column event_id drop identity;
create index events_resource_idx on events (tenant_id, resource text_pattern_ops, event_id);
create index events_time_idx on events (tenant_id, create_time);

-- The tenants, for the service's background work (reminders, retention), which runs
-- under the application role and row-level security like everything else.
create function followup_tenant_ids() returns setof text
language sql stable security definer set search_path = public
as $$ select tenant_id from tenants order by tenant_id $$;
revoke all on function followup_tenant_ids() from public;
grant execute on function followup_tenant_ids() to followup_app;

create index audit_records_time_idx on audit_records (tenant_id, create_time);

grant select, insert, update on event_counters to followup_app;
grant delete on events to followup_app;

alter table event_counters enable row level security;
create policy tenant_isolation on event_counters
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
