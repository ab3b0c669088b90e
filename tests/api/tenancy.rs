//! Tenant isolation: a key of one province never sees or changes another's data, through
//! the API or, as a second wall, through the database role the service uses.

use followup::api::proto::followup::v1::{self as pb, UnitKind};
use sqlx::Connection;
use tonic::Code;

use crate::assert_error;
use crate::helpers::TestApp;
use crate::units::{create, unit};

#[tokio::test]
async fn a_tenant_never_sees_or_changes_another_tenants_units() {
    let app = TestApp::spawn().await;
    let mut a = app.units(&app.admin_key("hau-giang").await);
    let mut b = app.units(&app.admin_key("can-tho").await);
    create(&mut a, "snv", unit("Sở Nội vụ Hậu Giang", "SNV", UnitKind::Department)).await;
    // The same ID and code are free in another province.
    create(&mut b, "snv", unit("Sở Nội vụ Cần Thơ", "SNV", UnitKind::Department)).await;
    create(&mut a, "only-a", unit("Chỉ Hậu Giang", "OA", UnitKind::Agency)).await;

    let listed = b.list_units(pb::ListUnitsRequest::default()).await.unwrap().into_inner().units;
    assert_eq!(listed.iter().map(|u| u.display_name.as_str()).collect::<Vec<_>>(), ["Sở Nội vụ Cần Thơ"]);
    let found = b
        .list_units(pb::ListUnitsRequest { filter: "\"hau giang\"".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .units;
    assert!(found.is_empty());

    let status = b.get_unit(pb::GetUnitRequest { name: "units/only-a".into() }).await.unwrap_err();
    assert_error(&status, Code::NotFound, "RESOURCE_NOT_FOUND");
    let status = b
        .update_unit(pb::UpdateUnitRequest {
            unit: Some(pb::Unit { name: "units/only-a".into(), display_name: "hijacked".into(), ..Default::default() }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["display_name".into()] }),
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "RESOURCE_NOT_FOUND");
    let status = b
        .dissolve_unit(pb::DissolveUnitRequest { name: "units/only-a".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "RESOURCE_NOT_FOUND");
    // Nor can another tenant's unit be named as parent.
    let status = b
        .create_unit(pb::CreateUnitRequest {
            unit: Some(pb::Unit { parent: "units/only-a".into(), ..unit("X", "X", UnitKind::Agency) }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "RESOURCE_NOT_FOUND");

    let a_unit = a.get_unit(pb::GetUnitRequest { name: "units/only-a".into() }).await.unwrap().into_inner();
    assert_eq!(a_unit.display_name, "Chỉ Hậu Giang");
    assert_eq!(a_unit.etag, "r1");
}

#[tokio::test]
async fn row_level_security_holds_even_without_a_tenant_filter() {
    let app = TestApp::spawn().await;
    let mut a = app.units(&app.admin_key("hau-giang").await);
    let mut b = app.units(&app.admin_key("can-tho").await);
    create(&mut a, "a1", unit("A1", "A1", UnitKind::Agency)).await;
    create(&mut b, "b1", unit("B1", "B1", UnitKind::Agency)).await;

    // The application's role, with one tenant set, querying with no tenant filter at all.
    let mut conn = app.operator().await;
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("set local role followup_app").execute(&mut *tx).await.unwrap();
    sqlx::query("select set_config('followup.tenant_id', 'hau-giang', true)").execute(&mut *tx).await.unwrap();
    let tables = [
        "units",
        "api_keys",
        "audit_records",
        "events",
        "idempotency_keys",
        "tenants",
        "conclusions",
        "recommendations",
        "plans",
        "tasks",
        "deadline_extensions",
        "task_views",
    ];
    for table in tables {
        let tenants: Vec<String> =
            sqlx::query_scalar(&format!("select distinct tenant_id from {table}")).fetch_all(&mut *tx).await.unwrap();
        assert!(tenants.iter().all(|t| t == "hau-giang"), "{table} leaked {tenants:?}");
    }
    let changed = sqlx::query("update units set display_name = 'x'").execute(&mut *tx).await.unwrap().rows_affected();
    assert_eq!(changed, 1, "only the own tenant's unit is reachable");
    // Writing a row for another tenant is refused by the policy's check.
    let error = sqlx::query("insert into units (tenant_id, unit_id, display_name, code, kind, valid_from, search_text) values ('can-tho', 'evil', 'x', 'EV', 'OTHER', '2025-01-01', 'x')")
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("row-level security"), "{error}");
    tx.rollback().await.unwrap();

    // The one function that reads past the policies (for the array index) holds the
    // transaction's tenant itself: a can-tho task addressing a recommendation...
    let mut tx = conn.begin().await.unwrap();
    for statement in [
        "insert into plans (tenant_id, plan_id, document_ref, document_year, issuing_unit_id, issue_date, title,
             monitoring_unit_id, state, search_text)
         values ('can-tho', 'p', '01/KH-UBND', 2025, 'b1', '2025-01-05', 'x', 'b1', 'ISSUED', 'x')",
        "insert into tasks (tenant_id, plan_id, task_id, title, lead_unit_id, recommendations, due_date, search_text)
         values ('can-tho', 'p', 't', 'x', 'b1', array['conclusions/c/recommendations/r'], current_date, 'x')",
        "set local role followup_app",
    ] {
        sqlx::query(statement).execute(&mut *tx).await.unwrap();
    }
    let names = vec!["conclusions/c/recommendations/r".to_owned()];
    for (transaction_tenant, asked_for, expected) in
        [("hau-giang", "can-tho", 0), ("hau-giang", "hau-giang", 0), ("can-tho", "can-tho", 1)]
    {
        sqlx::query("select set_config('followup.tenant_id', $1, true)")
            .bind(transaction_tenant)
            .execute(&mut *tx)
            .await
            .unwrap();
        let found: i64 = sqlx::query_scalar("select count(*) from followup_addressing_tasks($1, $2)")
            .bind(asked_for)
            .bind(&names)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(
            found, expected,
            "...is found only from a can-tho transaction: {transaction_tenant} asking for {asked_for}"
        );
    }
    tx.rollback().await.unwrap();

    // GetTask's read in one round trip scopes itself to the tenant it is given, for its
    // own statement only: a pooled connection carries no tenant into its next use.
    for statement in [
        "insert into plans (tenant_id, plan_id, document_ref, document_year, issuing_unit_id, issue_date, title,
             monitoring_unit_id, state, search_text)
         values ('can-tho', 'p', '01/KH-UBND', 2025, 'b1', '2025-01-05', 'x', 'b1', 'ISSUED', 'x')",
        "insert into tasks (tenant_id, plan_id, task_id, title, lead_unit_id, due_date, search_text)
         values ('can-tho', 'p', 't', 'x', 'b1', current_date, 'x')",
        "set role followup_app",
    ] {
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }
    for (tenant, expected) in [("hau-giang", 0), ("can-tho", 1), ("", 0)] {
        let found = sqlx::query("select task_id from followup_task($1, 'p', 't', false)")
            .bind(tenant)
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert_eq!(found.len(), expected, "a task of can-tho read as {tenant:?}");
        let tasks: i64 = sqlx::query_scalar("select count(*) from tasks").fetch_one(&mut conn).await.unwrap();
        assert_eq!(tasks, 0, "the read's tenant outlived its statement");
    }
    sqlx::query("reset role").execute(&mut conn).await.unwrap();

    // With no tenant set, nothing at all is visible.
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("set local role followup_app").execute(&mut *tx).await.unwrap();
    let count: i64 = sqlx::query_scalar("select count(*) from units").fetch_one(&mut *tx).await.unwrap();
    assert_eq!(count, 0);
    // The audit trail is append-only for the application's role.
    let error = sqlx::query("delete from audit_records").execute(&mut *tx).await.unwrap_err();
    assert!(error.to_string().contains("permission denied"), "{error}");
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn plans_tasks_and_conclusions_stay_in_their_province() {
    use crate::tracking_fixture::{Clients, Fixture, PLAN, date, task_name};
    let app = TestApp::spawn().await;
    let f = Fixture::new(&app).await;
    f.task("t", "stc", date(2026, 6, 30), &[]).await;
    f.issue().await;
    let mut other = Clients::new(&app, &app.admin_key("can-tho").await);

    let not_found = |status: tonic::Status| assert_error(&status, Code::NotFound, "RESOURCE_NOT_FOUND");
    not_found(other.plans.get_plan(pb::GetPlanRequest { name: PLAN.into() }).await.unwrap_err());
    not_found(other.tasks.get_task(pb::GetTaskRequest { name: task_name("t") }).await.unwrap_err());
    not_found(
        other
            .conclusions
            .get_conclusion(pb::GetConclusionRequest { name: "conclusions/kl-1".into() })
            .await
            .unwrap_err(),
    );
    not_found(
        other
            .recommendations
            .get_recommendation(pb::GetRecommendationRequest { name: crate::tracking_fixture::REC_MONEY.into() })
            .await
            .unwrap_err(),
    );
    not_found(
        other.tasks.start_task(pb::StartTaskRequest { name: task_name("t"), ..Default::default() }).await.unwrap_err(),
    );
    not_found(
        other.tasks.list_tasks(pb::ListTasksRequest { parent: PLAN.into(), ..Default::default() }).await.unwrap_err(),
    );
    let everything = pb::ListTasksRequest { parent: "plans/-".into(), ..Default::default() };
    assert!(other.tasks.list_tasks(everything).await.unwrap().into_inner().tasks.is_empty());
    assert!(other.plans.list_plans(pb::ListPlansRequest::default()).await.unwrap().into_inner().plans.is_empty());
    // Nor can a plan of one province name the units or conclusions of another.
    let status = other
        .plans
        .create_plan(pb::CreatePlanRequest {
            plan: Some(pb::Plan {
                document_ref: "01/KH-UBND".into(),
                issuing_unit: "units/ubnd".into(),
                issue_date: date(2026, 1, 1),
                title: "x".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    not_found(status);
}

#[tokio::test]
async fn a_transaction_holds_exactly_the_tenant_it_was_begun_for() {
    let app = TestApp::spawn().await;
    let pool = app.services().await.pool;
    // Tenants are IDs, but the literal that carries one into BEGIN holds any text.
    for tenant in ["hau-giang", r"x'; select 1; --\", "ô'\\'"] {
        for planning in [followup::store::Planning::PerCall, followup::store::Planning::Reused] {
            let mut tx = followup::store::begin_planned(&pool, tenant, planning).await.unwrap();
            let held: String =
                sqlx::query_scalar("select current_setting('followup.tenant_id')").fetch_one(&mut *tx).await.unwrap();
            assert_eq!(held, tenant);
            let plans: String =
                sqlx::query_scalar("select current_setting('plan_cache_mode')").fetch_one(&mut *tx).await.unwrap();
            let reused = planning == followup::store::Planning::Reused;
            assert_eq!(plans, if reused { "force_generic_plan" } else { "auto" });
            tx.rollback().await.unwrap();
        }
    }
    // A statement outside any transaction (GetTask's read) is bounded too.
    let mut conn = followup::store::connection(&pool).await.unwrap();
    let timeout: String = sqlx::query_scalar("show statement_timeout").fetch_one(&mut *conn).await.unwrap();
    assert_eq!(timeout, "30s");
}
