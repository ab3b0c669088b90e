-- Progress reports: the tenant's holidays (for deadlines in working days), reporting
-- schedules and ad-hoc report requests on plans, reports with their submitted versions,
-- and the progress a report applies to a task.

create table holidays (
  tenant_id text not null references tenants (tenant_id),
  day       date not null,
  name      text not null,
  primary key (tenant_id, day)
);

-- Vietnam's public holidays 2025-2027 (Labor Code 2019, art. 112: New Year, five days of
-- Lunar New Year, the Hùng Kings' day, 30 April, 1 May, 2 September and a day beside it),
-- with the weekday a holiday on a weekend is compensated on, and for 2025 the days the
-- Prime Minister's schedule adds. Each tenant gets a copy it manages by RPC: later
-- decisions on swapped days are added there.
create table holiday_seed (
  day  date primary key,
  name text not null
);
insert into holiday_seed (day, name) values
  ('2025-01-01', 'Tết Dương lịch'),
  ('2025-01-27', 'Tết Nguyên đán (nghỉ bù, hoán đổi)'),
  ('2025-01-28', 'Tết Nguyên đán'),
  ('2025-01-29', 'Tết Nguyên đán'),
  ('2025-01-30', 'Tết Nguyên đán'),
  ('2025-01-31', 'Tết Nguyên đán'),
  ('2025-04-07', 'Giỗ Tổ Hùng Vương'),
  ('2025-04-30', 'Ngày Giải phóng miền Nam'),
  ('2025-05-01', 'Ngày Quốc tế Lao động'),
  ('2025-05-02', 'Nghỉ hoán đổi'),
  ('2025-09-01', 'Quốc khánh'),
  ('2025-09-02', 'Quốc khánh'),
  ('2026-01-01', 'Tết Dương lịch'),
  ('2026-02-16', 'Tết Nguyên đán'),
  ('2026-02-17', 'Tết Nguyên đán'),
  ('2026-02-18', 'Tết Nguyên đán'),
  ('2026-02-19', 'Tết Nguyên đán'),
  ('2026-02-20', 'Tết Nguyên đán'),
  ('2026-04-27', 'Giỗ Tổ Hùng Vương (nghỉ bù)'),
  ('2026-04-30', 'Ngày Giải phóng miền Nam'),
  ('2026-05-01', 'Ngày Quốc tế Lao động'),
  ('2026-09-01', 'Quốc khánh'),
  ('2026-09-02', 'Quốc khánh'),
  ('2027-01-01', 'Tết Dương lịch'),
  ('2027-02-05', 'Tết Nguyên đán'),
  ('2027-02-08', 'Tết Nguyên đán'),
  ('2027-02-09', 'Tết Nguyên đán'),
  ('2027-02-10', 'Tết Nguyên đán (nghỉ bù)'),
  ('2027-02-11', 'Tết Nguyên đán (nghỉ bù)'),
  ('2027-04-16', 'Giỗ Tổ Hùng Vương'),
  ('2027-04-30', 'Ngày Giải phóng miền Nam'),
  ('2027-05-03', 'Ngày Quốc tế Lao động (nghỉ bù)'),
  ('2027-09-02', 'Quốc khánh'),
  ('2027-09-03', 'Quốc khánh');
insert into holidays (tenant_id, day, name) select t.tenant_id, s.day, s.name from tenants t cross join holiday_seed s;

create table report_schedules (
  tenant_id             text not null,
  plan_id               text not null,
  schedule_id           text not null,
  period_kind           text not null check (period_kind in ('MONTH', 'QUARTER', 'HALF_YEAR', 'NINE_MONTHS', 'YEAR')),
  -- Empty: the lead units of the plan's open tasks.
  unit_ids              text[] not null default '{}',
  deadline_working_days integer not null check (deadline_working_days between 1 and 60),
  nine_months_end       date,
  revision              bigint not null default 1,
  create_time           timestamptz not null default now(),
  update_time           timestamptz not null default now(),
  primary key (tenant_id, plan_id, schedule_id),
  constraint report_schedules_plan_fkey foreign key (tenant_id, plan_id) references plans (tenant_id, plan_id)
);
create unique index report_schedules_kind_key on report_schedules (tenant_id, plan_id, period_kind);

create table report_requests (
  tenant_id   text not null,
  plan_id     text not null,
  request_id  text not null,
  title       text not null,
  unit_ids    text[] not null default '{}',
  due_date    date not null,
  urgent      boolean not null default false,
  revision    bigint not null default 1,
  create_time timestamptz not null default now(),
  update_time timestamptz not null default now(),
  primary key (tenant_id, plan_id, request_id),
  constraint report_requests_plan_fkey foreign key (tenant_id, plan_id) references plans (tenant_id, plan_id)
);

create table reports (
  tenant_id         text not null,
  plan_id           text not null,
  report_id         text not null,
  unit_id           text not null,
  -- A periodic report names its period; an ad-hoc one its request.
  period_key        text,
  report_request_id text,
  deadline          date not null,
  document_ref      text not null default '',
  summary           text not null default '',
  results           text not null default '',
  difficulties      text not null default '',
  proposals         text not null default '',
  items             jsonb not null default '[]',
  state             text not null default 'DRAFT' check (state in ('DRAFT', 'SUBMITTED', 'ACCEPTED', 'RETURNED')),
  late              boolean not null default false,
  version           integer not null default 0,
  submit_time       timestamptz,
  review_comment    text not null default '',
  review_time       timestamptz,
  revision          bigint not null default 1,
  create_time       timestamptz not null default now(),
  update_time       timestamptz not null default now(),
  primary key (tenant_id, plan_id, report_id),
  constraint reports_plan_fkey foreign key (tenant_id, plan_id) references plans (tenant_id, plan_id),
  constraint reports_unit_fkey foreign key (tenant_id, unit_id) references units (tenant_id, unit_id),
  check ((period_key is null) <> (report_request_id is null))
);
-- One open report per unit, plan and period (or request).
create unique index reports_open_key on reports (tenant_id, plan_id, unit_id, coalesce(period_key, '#' || report_request_id))
  where state <> 'ACCEPTED';
create index reports_plan_period_idx on reports (tenant_id, plan_id, period_key, unit_id);

-- Every submitted version, as it was submitted.
create table report_versions (
  tenant_id   text not null,
  plan_id     text not null,
  report_id   text not null,
  version     integer not null,
  snapshot    jsonb not null,
  late        boolean not null,
  submit_time timestamptz not null,
  primary key (tenant_id, plan_id, report_id, version),
  constraint report_versions_report_fkey foreign key (tenant_id, plan_id, report_id) references reports (tenant_id, plan_id, report_id)
);

alter table tasks add column progress_percent integer not null default 0 check (progress_percent between 0 and 100);
alter table tasks add column progress_note text not null default '';
-- The Vietnamese calendar day of completed_time, written with it: timeliness compares
-- dates, and converting every row's instant to Asia/Ho_Chi_Minh on each read is the
-- dearest part of a plan's progress.
alter table tasks add column completed_date date;
update tasks set completed_date = (completed_time at time zone 'Asia/Ho_Chi_Minh')::date where completed_time is not null;
alter table tasks add constraint tasks_completed_date_check check ((completed_time is null) = (completed_date is null));

-- The per-unit rows of a plan's progress group by lead unit.
create index tasks_plan_lead_idx on tasks (tenant_id, plan_id, lead_unit_id);

grant select on holiday_seed to followup_app;
grant select, insert, update, delete on holidays to followup_app;
grant select, insert, update, delete on report_schedules to followup_app;
grant select, insert, update on report_requests, reports to followup_app;
grant select, insert on report_versions to followup_app;

alter table holidays enable row level security;
alter table report_schedules enable row level security;
alter table report_requests enable row level security;
alter table reports enable row level security;
alter table report_versions enable row level security;

create policy tenant_isolation on holidays
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
create policy tenant_isolation on report_schedules
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
create policy tenant_isolation on report_requests
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
create policy tenant_isolation on reports
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
create policy tenant_isolation on report_versions
  using (tenant_id = followup_current_tenant()) with check (tenant_id = followup_current_tenant());
