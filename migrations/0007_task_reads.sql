-- A task as the service reads it: the row with its latest deadline extension, and the
-- search text that lists filter on. The view runs with the caller's rights
-- (security_invoker), so the tables' row-level security still admits only the
-- transaction's tenant.
create view task_views with (security_invoker = true) as
  select t.tenant_id, t.plan_id, t.task_id, t.title, t.description, t.lead_unit_id,
    t.coordinating_unit_ids, t.recommendations, t.due_date, t.standing, t.state, t.resume_state,
    t.suspended_since, t.suspended_days, t.completed_time, t.completed_date, t.evidence, t.achieved,
    t.state_reason, t.progress_percent, t.progress_note, t.revision, t.create_time, t.update_time, t.search_text,
    x.state as ext_state, x.requested_due_date as ext_requested_due_date, x.reason as ext_reason,
    x.decided_due_date as ext_decided_due_date, x.decision_comment as ext_decision_comment,
    x.request_time as ext_request_time, x.decide_time as ext_decide_time
  from tasks t
  left join lateral (
    select * from deadline_extensions e
    where e.tenant_id = t.tenant_id and e.plan_id = t.plan_id and e.task_id = t.task_id
    order by e.extension_id desc limit 1
  ) x on true;
grant select on task_views to followup_app;

-- One task in one round trip, outside any explicit transaction: the tenant is set for
-- the statement's own transaction before the row is read, so row-level security binds
-- the read as it binds every other. With p_lock the task row is locked first, and the
-- read that follows (a fresh snapshot, as in any volatile function) sees its latest
-- committed version.
create function followup_task(p_tenant text, p_plan text, p_task text, p_lock boolean)
  returns setof task_views
  language plpgsql volatile
as $$
begin
  perform set_config('followup.tenant_id', p_tenant, true);
  if p_lock then
    perform 1 from tasks where tenant_id = p_tenant and plan_id = p_plan and task_id = p_task for update;
  end if;
  return query select * from task_views where tenant_id = p_tenant and plan_id = p_plan and task_id = p_task;
end
$$;
revoke all on function followup_task(text, text, text, boolean) from public;
grant execute on function followup_task(text, text, text, boolean) to followup_app;
