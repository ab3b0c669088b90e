-- The foundation: tenants, units, API keys, the audit trail, the event outbox and
-- request ids. Forward-only: never edit this file once released; add a new one.
--
-- Tenancy: every tenant table has tenant_id as the first column of its primary key and
-- of every foreign key and unique index (so it can be distributed by tenant), and
-- row-level security admits only the tenant named by the transaction-local setting
-- followup.tenant_id. The service's sessions SET ROLE followup_app, which is neither
-- superuser nor owner, so the policies bind it even when it connects as a superuser.

create extension if not exists pg_trgm;

do $$
begin
  create role followup_app nologin;
exception when duplicate_object then null;
end
$$;
grant followup_app to current_user;
grant usage on schema public to followup_app;

create function followup_current_tenant() returns text
language sql stable
as $$ select nullif(current_setting('followup.tenant_id', true), '') $$;

-- Service-wide settings, not tenant data (hence no tenant_id): the page-token secret.
create table service_secrets (
  name  text primary key,
  value bytea not null
);
insert into service_secrets (name, value)
values ('page_token', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

create table tenants (
  tenant_id    text primary key check (tenant_id ~ '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$'),
  display_name text not null,
  create_time  timestamptz not null default now()
);

create table units (
  tenant_id    text not null references tenants (tenant_id),
  unit_id      text not null,
  display_name text not null,
  code         text not null,
  kind         text not null check (kind in ('PEOPLES_COMMITTEE', 'DEPARTMENT', 'AGENCY', 'COMMUNE', 'INSPECTORATE', 'OTHER')),
  parent_id    text,
  valid_from   date not null,
  valid_to     date,
  successor_id text,
  -- display_name and code folded for search (no case, no diacritics), computed by the service.
  search_text  text not null,
  revision     bigint not null default 1,
  create_time  timestamptz not null default now(),
  update_time  timestamptz not null default now(),
  primary key (tenant_id, unit_id),
  constraint units_parent_fkey foreign key (tenant_id, parent_id) references units (tenant_id, unit_id),
  constraint units_successor_fkey foreign key (tenant_id, successor_id) references units (tenant_id, unit_id),
  check (valid_to is null or valid_to > valid_from),
  check (successor_id is null or successor_id <> unit_id)
);
-- A code names one unit at a time; a dissolved unit frees its code.
create unique index units_active_code_key on units (tenant_id, code) where valid_to is null;
create index units_parent_idx on units (tenant_id, parent_id, unit_id);
create index units_search_idx on units using gin (search_text gin_trgm_ops);

create table api_keys (
  tenant_id     text not null references tenants (tenant_id),
  key_id        text not null,
  secret_sha256 bytea not null,
  role          text not null check (role in ('ADMIN', 'MONITOR', 'UNIT', 'READER')),
  unit_id       text,
  description   text not null default '',
  create_time   timestamptz not null default now(),
  revoke_time   timestamptz,
  primary key (tenant_id, key_id),
  constraint api_keys_unit_fkey foreign key (tenant_id, unit_id) references units (tenant_id, unit_id),
  check (role <> 'UNIT' or unit_id is not null)
);

-- Append-only: the application role may insert and read, never change or delete.
create table audit_records (
  tenant_id   text not null references tenants (tenant_id),
  audit_id    bigint generated always as identity,
  actor       text not null,
  action      text not null,
  resource    text not null,
  request_id  uuid,
  reason      text,
  before      jsonb,
  after       jsonb,
  create_time timestamptz not null default now(),
  primary key (tenant_id, audit_id)
);
create index audit_records_resource_idx on audit_records (tenant_id, resource, audit_id);

-- The transactional outbox: one row per committed change, in the change's transaction.
create table events (
  tenant_id   text not null references tenants (tenant_id),
  event_id    bigint generated always as identity,
  type        text not null,
  resource    text not null,
  payload     jsonb not null,
  create_time timestamptz not null default now(),
  primary key (tenant_id, event_id)
);

create table idempotency_keys (
  tenant_id      text not null references tenants (tenant_id),
  request_id     uuid not null,
  method         text not null,
  request_sha256 bytea not null,
  response       jsonb,
  create_time    timestamptz not null default now(),
  primary key (tenant_id, request_id)
);

grant select on service_secrets to followup_app;
grant select on tenants to followup_app;
grant select, insert, update on units to followup_app;
grant select on api_keys to followup_app;
grant select, insert on audit_records, events to followup_app;
grant select, insert, update on idempotency_keys to followup_app;

alter table tenants enable row level security;
alter table units enable row level security;
alter table api_keys enable row level security;
alter table audit_records enable row level security;
alter table events enable row level security;
alter table idempotency_keys enable row level security;

create policy tenant_isolation on tenants
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
create policy tenant_isolation on units
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
create policy tenant_isolation on api_keys
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
create policy tenant_isolation on audit_records
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
create policy tenant_isolation on events
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
create policy tenant_isolation on idempotency_keys
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
