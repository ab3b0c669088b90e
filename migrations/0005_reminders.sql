-- Reminders (văn bản đôn đốc): rules per plan (plan_id '' holds the province's
-- default), and the reminders sent, automatic or manual. A reminder exists once per
-- subject, rule, occurrence and addressee, so a restart or a second replica never sends
-- one twice.

create table reminder_rules (
  tenant_id              text not null references tenants (tenant_id),
  plan_id                text not null default '',
  days_before            integer not null default 3 check (days_before between 0 and 365),
  on_due_day             boolean not null default true,
  overdue_every_days     integer not null default 7 check (overdue_every_days between 0 and 365),
  escalate_after_days    integer not null default 14 check (escalate_after_days between 0 and 3650),
  escalate_to_parent     boolean not null default false,
  report_days_before     integer not null default 2 check (report_days_before between 0 and 365),
  remind_missing_reports boolean not null default true,
  update_time            timestamptz not null default now(),
  primary key (tenant_id, plan_id)
);

create table reminders (
  tenant_id        text not null references tenants (tenant_id),
  reminder_id      text not null,
  plan_id          text not null,
  unit_id          text not null,
  kind             text not null check (kind in ('AUTOMATIC', 'MANUAL', 'ESCALATION')),
  rule             text not null,
  subject          text not null,
  occurrence       text not null,
  task_names       text[] not null default '{}',
  document_ref     text not null default '',
  message          text not null default '',
  state            text not null default 'OPEN' check (state in ('OPEN', 'ACKNOWLEDGED')),
  sender           text not null,
  acknowledge_time timestamptz,
  create_time      timestamptz not null default now(),
  primary key (tenant_id, reminder_id),
  constraint reminders_unit_fkey foreign key (tenant_id, unit_id) references units (tenant_id, unit_id)
);
create unique index reminders_occurrence_key on reminders (tenant_id, subject, rule, occurrence, unit_id);
create index reminders_plan_idx on reminders (tenant_id, plan_id, reminder_id);

grant select, insert, update on reminder_rules, reminders to followup_app;

alter table reminder_rules enable row level security;
alter table reminders enable row level security;
create policy tenant_isolation on reminder_rules
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
create policy tenant_isolation on reminders
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
