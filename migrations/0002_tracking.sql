-- The tracking core: conclusions and their recommendations, plans and their tasks, and
-- deadline extensions. Same tenancy rules as 0001: tenant_id leads every key, and
-- row-level security admits only the transaction's tenant.
--
-- References to several units or recommendations (inspected units, addressees,
-- coordinating units, a task's recommendations, a plan's conclusions) are arrays of IDs
-- or names; the service checks each exists in the tenant when it is written, and GIN
-- indexes serve "which tasks name X" questions.

create table conclusions (
  tenant_id          text not null references tenants (tenant_id),
  conclusion_id      text not null,
  document_ref       text not null,
  -- The year the reference is unique in: its own year part, else the signing year.
  document_year      integer not null,
  -- The issuer the reference is unique for: 'units/{id}' or the folded issuing body.
  issuer_key         text not null,
  issuing_body       text not null,
  issuing_unit_id    text,
  signed_date        date not null,
  title              text not null,
  summary            text not null default '',
  inspected_unit_ids text[] not null default '{}',
  publication_place  text not null default '',
  publication_date   date,
  search_text        text not null,
  revision           bigint not null default 1,
  create_time        timestamptz not null default now(),
  update_time        timestamptz not null default now(),
  primary key (tenant_id, conclusion_id),
  constraint conclusions_issuing_unit_fkey foreign key (tenant_id, issuing_unit_id) references units (tenant_id, unit_id)
);
create unique index conclusions_document_ref_key on conclusions (tenant_id, issuer_key, document_year, document_ref);
create index conclusions_inspected_idx on conclusions using gin (inspected_unit_ids);
create index conclusions_search_idx on conclusions using gin (search_text gin_trgm_ops);

create table recommendations (
  tenant_id          text not null,
  conclusion_id      text not null,
  recommendation_id  text not null,
  content            text not null,
  kind               text not null,
  addressee_unit_ids text[] not null default '{}',
  deadline           date,
  -- Target figures: {"DONG": 1500000000, "INDIVIDUALS": 3}.
  required           jsonb not null default '{}',
  revision           bigint not null default 1,
  create_time        timestamptz not null default now(),
  update_time        timestamptz not null default now(),
  primary key (tenant_id, conclusion_id, recommendation_id),
  constraint recommendations_conclusion_fkey foreign key (tenant_id, conclusion_id) references conclusions (tenant_id, conclusion_id)
);
create index recommendations_addressee_idx on recommendations using gin (addressee_unit_ids);

create table plans (
  tenant_id          text not null references tenants (tenant_id),
  plan_id            text not null,
  document_ref       text not null,
  document_year      integer not null,
  issuing_unit_id    text not null,
  issue_date         date not null,
  title              text not null,
  objectives         text not null default '',
  requirements       text not null default '',
  conclusion_ids     text[] not null default '{}',
  monitoring_unit_id text,
  state              text not null default 'DRAFT' check (state in ('DRAFT', 'ISSUED', 'COMPLETED', 'CANCELLED')),
  cancel_reason      text not null default '',
  search_text        text not null,
  revision           bigint not null default 1,
  create_time        timestamptz not null default now(),
  update_time        timestamptz not null default now(),
  primary key (tenant_id, plan_id),
  constraint plans_issuing_unit_fkey foreign key (tenant_id, issuing_unit_id) references units (tenant_id, unit_id),
  constraint plans_monitoring_unit_fkey foreign key (tenant_id, monitoring_unit_id) references units (tenant_id, unit_id)
);
create unique index plans_document_ref_key on plans (tenant_id, issuing_unit_id, document_year, document_ref);
create index plans_conclusions_idx on plans using gin (conclusion_ids);
create index plans_search_idx on plans using gin (search_text gin_trgm_ops);

create table tasks (
  tenant_id              text not null,
  plan_id                text not null,
  task_id                text not null,
  title                  text not null,
  description            text not null default '',
  lead_unit_id           text not null,
  coordinating_unit_ids  text[] not null default '{}',
  -- Recommendation names: 'conclusions/{c}/recommendations/{r}'.
  recommendations        text[] not null default '{}',
  due_date               date,
  standing               boolean not null default false,
  state                  text not null default 'NOT_STARTED'
                         check (state in ('NOT_STARTED', 'IN_PROGRESS', 'REPORTED_DONE', 'DONE', 'SUSPENDED', 'CLOSED_NOT_DONE')),
  -- The state a suspended task returns to.
  resume_state           text,
  suspended_since        timestamptz,
  -- Whole days spent suspended, added to due_date: suspended time is never late.
  suspended_days         integer not null default 0,
  completed_time         timestamptz,
  evidence               jsonb,
  -- Achieved figures by recommendation: {"conclusions/c/recommendations/r": {"DONG": 10}}.
  achieved               jsonb not null default '{}',
  state_reason           text not null default '',
  search_text            text not null,
  revision               bigint not null default 1,
  create_time            timestamptz not null default now(),
  update_time            timestamptz not null default now(),
  primary key (tenant_id, plan_id, task_id),
  constraint tasks_plan_fkey foreign key (tenant_id, plan_id) references plans (tenant_id, plan_id),
  constraint tasks_lead_unit_fkey foreign key (tenant_id, lead_unit_id) references units (tenant_id, unit_id),
  check (standing = (due_date is null))
);
-- The overdue and due-soon questions: a unit's open tasks by effective due date.
create index tasks_lead_due_idx on tasks (tenant_id, lead_unit_id, (due_date + suspended_days), task_id);
create index tasks_plan_due_idx on tasks (tenant_id, plan_id, (due_date + suspended_days), task_id);
create index tasks_plan_updated_idx on tasks (tenant_id, plan_id, update_time, task_id);
create index tasks_coordinating_idx on tasks using gin (coordinating_unit_ids);
create index tasks_recommendations_idx on tasks using gin (recommendations);
create index tasks_search_idx on tasks using gin (search_text gin_trgm_ops);

create table deadline_extensions (
  tenant_id          text not null,
  plan_id            text not null,
  task_id            text not null,
  extension_id       bigint generated always as identity,
  state              text not null default 'PENDING' check (state in ('PENDING', 'APPROVED', 'REJECTED')),
  requested_due_date date not null,
  reason             text not null,
  requested_by       text not null,
  decided_due_date   date,
  decision_comment   text not null default '',
  decided_by         text,
  request_time       timestamptz not null default now(),
  decide_time        timestamptz,
  primary key (tenant_id, plan_id, task_id, extension_id),
  constraint deadline_extensions_task_fkey foreign key (tenant_id, plan_id, task_id) references tasks (tenant_id, plan_id, task_id)
);
-- One pending request per task.
create unique index deadline_extensions_pending_key on deadline_extensions (tenant_id, plan_id, task_id) where state = 'PENDING';

grant select, insert, update on conclusions, recommendations, plans, tasks, deadline_extensions to followup_app;

alter table conclusions enable row level security;
alter table recommendations enable row level security;
alter table plans enable row level security;
alter table tasks enable row level security;
alter table deadline_extensions enable row level security;

create policy tenant_isolation on conclusions
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
create policy tenant_isolation on recommendations
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
create policy tenant_isolation on plans
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
create policy tenant_isolation on tasks
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
create policy tenant_isolation on deadline_extensions
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
