//! The demo data: the Hậu Giang case of 2020 (plan 963/KH-UBND implementing conclusion
//! 146/KLTT-BTĐKT of the Central Emulation and Commendation Board), from the news item
//! in the project's shared sources. Units, the conclusion and the plan are as the news
//! names them; the recommendations' figures, the deadlines and the progress are
//! plausible inventions, so a newcomer sees a living plan: tasks done on time and late,
//! one overdue, one standing, one awaiting acceptance, one with an approved extension.
//!
//! Loaded through the use cases, as a portal would, with a clock that walks through
//! 2020-2021, so every record, audit entry and event is real.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::auth::principal::{Principal, Role};
use crate::domain::calendar::ManualClock;
use crate::domain::document_ref::DocumentRef;
use crate::domain::period::{Period, PeriodKind};
use crate::domain::recommendation::{Measure, RecommendationKind};
use crate::domain::unit::UnitKind;
use crate::error::Error;
use crate::service::plans::{PlanInput, PlanStep};
use crate::service::recommendations::RecommendationInput;
use crate::service::reports::{ItemInput, NewReport, ReportText, Review, Subject};
use crate::service::schedules::ScheduleInput;
use crate::service::tasks::{Due, TaskInput, TaskStep};
use crate::service::units::NewUnit;
use crate::service::{Services, conclusions, plans, recommendations, reports, schedules, tasks, units};
use crate::store::tasks::EvidenceRecord;

/// The plan's ID in the demo tenant.
pub const PLAN_ID: &str = "kh-963-ubnd";
/// The conclusion's ID.
pub const CONCLUSION_ID: &str = "kltt-146-btdkt";
/// The task left overdue, which the README's walkthrough reports done and accepts.
pub const OVERDUE_TASK: &str = "khac-phuc-chau-thanh-a";

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// 09:00 in Vietnam on that day.
fn morning(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    day(y, m, d).and_hms_opt(2, 0, 0).unwrap_or_default().and_utc()
}

fn doc(text: &str) -> Result<DocumentRef, Error> {
    DocumentRef::parse(text).map_err(|e| Error::Internal(e.into()))
}

const UNITS: &[(&str, &str, &str, UnitKind, Option<&str>)] = &[
    ("ubnd", "Ủy ban nhân dân tỉnh Hậu Giang", "UBND", UnitKind::PeoplesCommittee, None),
    ("snv", "Sở Nội vụ tỉnh Hậu Giang", "SNV", UnitKind::Department, Some("ubnd")),
    ("ban-tdkt", "Ban Thi đua - Khen thưởng tỉnh Hậu Giang", "BTĐKT", UnitKind::Agency, Some("snv")),
    ("hoi-dong-tdkt", "Hội đồng Thi đua - Khen thưởng tỉnh Hậu Giang", "HĐTĐKT", UnitKind::Other, Some("ubnd")),
    ("stp", "Sở Tư pháp tỉnh Hậu Giang", "STP", UnitKind::Department, Some("ubnd")),
    ("sldtbxh", "Sở Lao động - Thương binh và Xã hội tỉnh Hậu Giang", "SLĐTBXH", UnitKind::Department, Some("ubnd")),
    ("vi-thanh", "Ủy ban nhân dân thành phố Vị Thanh", "UBNDVT", UnitKind::PeoplesCommittee, Some("ubnd")),
    ("chau-thanh-a", "Ủy ban nhân dân huyện Châu Thành A", "UBNDCTA", UnitKind::PeoplesCommittee, Some("ubnd")),
];

/// A recommendation of the demo: ID, content, kind, addressees, targets.
type RecommendationData =
    (&'static str, &'static str, RecommendationKind, &'static [&'static str], Vec<(Measure, i64)>);

/// Whether the demo plan is already there.
pub async fn loaded(svc: &Services, tenant: &str) -> Result<bool, Error> {
    let who = loader(tenant);
    match plans::get(svc, &who, PLAN_ID).await {
        Ok(_) => Ok(true),
        Err(Error::NotFound { .. }) => Ok(false),
        Err(error) => Err(error),
    }
}

fn loader(tenant: &str) -> Principal {
    Principal { tenant: tenant.to_owned(), key_id: "demo-loader".into(), role: Role::Admin, unit: None }
}

/// Loads the demo into `tenant` (which must exist), unless it is already there.
/// Returns whether it loaded.
pub async fn load(services: &Services, tenant: &str) -> Result<bool, Error> {
    if loaded(services, tenant).await? {
        return Ok(false);
    }
    let clock = Arc::new(ManualClock::new(morning(2020, 5, 13)));
    let svc = Services { clock: clock.clone(), ..services.clone() };
    let who = loader(tenant);

    for (id, name, code, kind, parent) in UNITS {
        let unit = NewUnit {
            unit_id: Some((*id).to_owned()),
            display_name: (*name).to_owned(),
            code: (*code).to_owned(),
            kind: *kind,
            parent_id: parent.map(str::to_owned),
            valid_from: Some(day(2004, 1, 1)),
        };
        units::create(&svc, &who, unit, None).await?;
    }

    let conclusion = conclusions::ConclusionInput {
        document_ref: doc("146/KLTT-BTĐKT")?,
        issuing_body: "Ban Thi đua - Khen thưởng Trung ương".into(),
        issuing_unit_id: None,
        signed_date: day(2020, 5, 13),
        title: "Kết luận thanh tra công tác thi đua, khen thưởng tại tỉnh Hậu Giang".into(),
        summary: "Thanh tra việc thực hiện pháp luật về thi đua, khen thưởng: một số văn bản của tỉnh chưa phù hợp \
                  Điều 25 và Điều 27 Luật Thi đua, khen thưởng (sửa đổi, bổ sung năm 2013); còn tồn đọng hồ sơ \
                  khen thưởng thành tích kháng chiến; công tác sơ kết, tổng kết phong trào thi đua chuyên đề chưa \
                  thường xuyên."
            .into(),
        inspected_unit_ids: vec!["ban-tdkt".into(), "vi-thanh".into(), "chau-thanh-a".into()],
        publication_place: "Cổng thông tin điện tử tỉnh Hậu Giang".into(),
        publication_date: Some(day(2020, 5, 20)),
    };
    conclusions::create(&svc, &who, Some(CONCLUSION_ID.into()), conclusion, None).await?;

    let recommendations_data: [RecommendationData; 4] = [
        (
            "kn1-sua-doi-quy-dinh",
            "Rà soát, sửa đổi, bổ sung, xây dựng các quy định về công tác thi đua, khen thưởng của tỉnh; rút kinh \
             nghiệm việc ban hành các văn bản chưa phù hợp với Điều 25 và Điều 27 Luật Thi đua, khen thưởng.",
            RecommendationKind::AmendRegulation,
            &["ubnd", "snv"],
            vec![(Measure::Documents, 2)],
        ),
        (
            "kn2-khac-phuc-ton-tai",
            "Các cơ quan, đơn vị được thanh tra nghiêm túc kiểm điểm, khắc phục những tồn tại, hạn chế đã nêu \
             trong kết luận thanh tra.",
            RecommendationKind::SelfCriticismReview,
            &["ban-tdkt", "vi-thanh", "chau-thanh-a"],
            vec![(Measure::Collectives, 3)],
        ),
        (
            "kn3-kiem-tra-tap-huan",
            "Tăng cường kiểm tra về công tác thi đua, khen thưởng; thường xuyên tập huấn nâng cao trình độ chuyên \
             môn, nghiệp vụ cho đội ngũ chuyên trách, kiêm nhiệm.",
            RecommendationKind::Other,
            &["snv"],
            vec![],
        ),
        (
            "kn4-ho-so-khang-chien",
            "Tham mưu, tập trung giải quyết các hồ sơ khen thưởng thành tích kháng chiến còn tồn đọng tại tỉnh \
             đảm bảo đúng quy định.",
            RecommendationKind::Other,
            &["ban-tdkt", "sldtbxh"],
            vec![(Measure::Cases, 120)],
        ),
    ];
    for (id, content, kind, addressees, required) in recommendations_data {
        let input = RecommendationInput {
            content: content.into(),
            kind,
            addressee_unit_ids: addressees.iter().map(|a| (*a).to_owned()).collect(),
            deadline: Some(day(2020, 12, 31)),
            required,
        };
        recommendations::create(&svc, &who, CONCLUSION_ID, Some(id.into()), input, None).await?;
    }
    let rec = |id: &str| (CONCLUSION_ID.to_owned(), id.to_owned());
    let rec_name = |id: &str| recommendations::name(CONCLUSION_ID, id);

    let plan = PlanInput {
        document_ref: doc("963/KH-UBND")?,
        issuing_unit_id: "ubnd".into(),
        issue_date: day(2020, 5, 13),
        title: "Kế hoạch thực hiện Kết luận Thanh tra số 146/KLTT-BTĐKT của Ban Thi đua - Khen thưởng Trung ương".into(),
        objectives: "Phát huy hiệu quả tích cực của công tác thi đua, khen thưởng của tỉnh; khắc phục hạn chế, tồn tại \
                     được phát hiện sau thanh tra; tổ chức thực hiện kịp thời, đúng thời hạn các kiến nghị tại Kết luận \
                     thanh tra."
            .into(),
        requirements: "Các kết luận và kiến nghị của Ban Thi đua - Khen thưởng Trung ương phải được thực hiện nghiêm \
                       túc, kịp thời. Các cơ quan, đơn vị và địa phương triển khai thực hiện theo lộ trình Kế hoạch; \
                       giao Sở Nội vụ chịu trách nhiệm theo dõi, đôn đốc tổ chức thực hiện."
            .into(),
        conclusion_ids: vec![CONCLUSION_ID.into()],
        monitoring_unit_id: Some("snv".into()),
    };
    plans::create(&svc, &who, Some(PLAN_ID.into()), plan, None).await?;

    let task = |title: &str, lead: &str, coordinating: &[&str], recs: &[&str], due: Due| TaskInput {
        title: title.into(),
        description: String::new(),
        lead_unit_id: lead.into(),
        coordinating_unit_ids: coordinating.iter().map(|c| (*c).to_owned()).collect(),
        recommendations: recs.iter().map(|r| rec(r)).collect(),
        due,
    };
    let single: [(&str, TaskInput); 6] = [
        (
            "sua-doi-quy-dinh",
            task(
                "Rà soát, sửa đổi, bổ sung các quy định về công tác thi đua, khen thưởng của tỉnh",
                "snv",
                &["stp", "ban-tdkt"],
                &["kn1-sua-doi-quy-dinh"],
                Due::Date(day(2020, 9, 30)),
            ),
        ),
        (
            "huong-dan-don-vi",
            task(
                "Hướng dẫn các đơn vị, địa phương thực hiện công tác thi đua, khen thưởng theo đúng quy định",
                "ban-tdkt",
                &[],
                &["kn1-sua-doi-quy-dinh"],
                Due::Date(day(2020, 7, 31)),
            ),
        ),
        (
            "kiem-tra-thuong-xuyen",
            task(
                "Tăng cường kiểm tra về công tác thi đua, khen thưởng",
                "snv",
                &["ban-tdkt"],
                &["kn3-kiem-tra-tap-huan"],
                Due::Standing,
            ),
        ),
        (
            "tap-huan-nghiep-vu",
            task(
                "Tập huấn nghiệp vụ thi đua, khen thưởng cho đội ngũ chuyên trách, kiêm nhiệm",
                "ban-tdkt",
                &[],
                &["kn3-kiem-tra-tap-huan"],
                Due::Date(day(2020, 12, 31)),
            ),
        ),
        (
            "ho-so-khang-chien",
            task(
                "Giải quyết các hồ sơ khen thưởng thành tích kháng chiến còn tồn đọng",
                "ban-tdkt",
                &["sldtbxh"],
                &["kn4-ho-so-khang-chien"],
                Due::Date(day(2021, 6, 30)),
            ),
        ),
        (
            "khen-thuong-dot-xuat",
            task(
                "Chú trọng khen thưởng cá nhân có thành tích đột xuất, người lao động trực tiếp",
                "hoi-dong-tdkt",
                &["ban-tdkt"],
                &[],
                Due::Date(day(2020, 10, 31)),
            ),
        ),
    ];
    for (id, input) in single {
        tasks::create(&svc, &who, PLAN_ID, Some(id.into()), input, None).await?;
    }
    // "Each inspected unit remedies its shortcomings": one task per unit, in one batch.
    let remedial = ["ban-tdkt", "vi-thanh", "chau-thanh-a"]
        .iter()
        .map(|unit| {
            let input = task(
                "Khắc phục những tồn tại, hạn chế đã nêu trong kết luận thanh tra",
                unit,
                &[],
                &["kn2-khac-phuc-ton-tai"],
                Due::Date(day(2020, 8, 31)),
            );
            (Some(format!("khac-phuc-{unit}")), input)
        })
        .collect();
    tasks::batch_create(&svc, &who, PLAN_ID, remedial, None).await?;
    plans::step(&svc, &who, PLAN_ID, PlanStep::Issue, "", None).await?;

    // Progress through 2020-2021.
    let evidence = |document_ref: &str, description: &str| EvidenceRecord {
        document_ref: document_ref.into(),
        description: description.into(),
        ..Default::default()
    };
    let steps: Vec<(DateTime<Utc>, &str, TaskStep)> = vec![
        (morning(2020, 5, 20), "sua-doi-quy-dinh", TaskStep::Start),
        (morning(2020, 5, 25), "kiem-tra-thuong-xuyen", TaskStep::Start),
        (morning(2020, 6, 1), "khac-phuc-chau-thanh-a", TaskStep::Start),
        (
            morning(2020, 7, 15),
            "khac-phuc-vi-thanh",
            TaskStep::ReportDone {
                evidence: evidence("215/BC-UBND", "Đã tổ chức kiểm điểm, rút kinh nghiệm tập thể lãnh đạo."),
                achieved: vec![(rec_name("kn2-khac-phuc-ton-tai"), Measure::Collectives, 1)],
            },
        ),
        (morning(2020, 7, 20), "khac-phuc-vi-thanh", TaskStep::Accept("Đạt yêu cầu.".into())),
        (
            morning(2020, 8, 20),
            "huong-dan-don-vi",
            TaskStep::ReportDone {
                evidence: evidence("1120/HD-BTĐKT", "Ban hành hướng dẫn công tác thi đua, khen thưởng năm 2020."),
                achieved: vec![],
            },
        ),
        (morning(2020, 8, 24), "huong-dan-don-vi", TaskStep::Accept(String::new())),
        (
            morning(2020, 8, 28),
            "khac-phuc-ban-tdkt",
            TaskStep::ReportDone {
                evidence: evidence("", "Đã kiểm điểm và chấn chỉnh quy trình thẩm định hồ sơ khen thưởng."),
                achieved: vec![(rec_name("kn2-khac-phuc-ton-tai"), Measure::Collectives, 1)],
            },
        ),
        (morning(2020, 9, 2), "khac-phuc-ban-tdkt", TaskStep::Accept(String::new())),
        (
            morning(2020, 9, 25),
            "sua-doi-quy-dinh",
            TaskStep::ReportDone {
                evidence: evidence(
                    "45/BC-SNV",
                    "UBND tỉnh ban hành Quy chế thi đua, khen thưởng mới và bãi bỏ 02 văn bản.",
                ),
                achieved: vec![(rec_name("kn1-sua-doi-quy-dinh"), Measure::Documents, 2)],
            },
        ),
        (morning(2020, 9, 29), "sua-doi-quy-dinh", TaskStep::Accept("Đúng hạn.".into())),
        (
            morning(2020, 10, 20),
            "khen-thuong-dot-xuat",
            TaskStep::ReportDone {
                evidence: evidence("", "Đã khen thưởng đột xuất 15 cá nhân."), achieved: vec![]
            },
        ),
        (morning(2020, 10, 23), "khen-thuong-dot-xuat", TaskStep::Accept(String::new())),
        (morning(2020, 11, 2), "ho-so-khang-chien", TaskStep::Start),
        (
            morning(2020, 12, 18),
            "tap-huan-nghiep-vu",
            TaskStep::ReportDone {
                evidence: evidence("", "Tổ chức 02 lớp tập huấn cho 180 học viên."),
                achieved: vec![],
            },
        ),
    ];
    for (at, task_id, step) in steps {
        clock.set(at);
        tasks::step(&svc, &who, PLAN_ID, task_id, step, "", None).await?;
    }
    // Quarterly progress reports, due five working days after each cut-off; the
    // Department of Home Affairs reported on the third quarter of 2020.
    let quarterly = ScheduleInput {
        period_kind: PeriodKind::Quarter,
        unit_ids: vec![],
        deadline_working_days: 5,
        nine_months_end: None,
    };
    schedules::create_schedule(&svc, &who, PLAN_ID, Some("hang-quy".into()), quarterly, None).await?;
    clock.set(morning(2020, 9, 18));
    let report = NewReport {
        unit_id: "snv".into(),
        subject: Subject::Period(
            Period::new(PeriodKind::Quarter, 2020, 3).ok_or_else(|| Error::Internal(anyhow::anyhow!("2020-Q3")))?,
        ),
        text: ReportText {
            document_ref: "45/BC-SNV".into(),
            summary: "Sở Nội vụ báo cáo kết quả thực hiện Kế hoạch 963/KH-UBND quý III năm 2020.".into(),
            results: "Hoàn thành rà soát, tham mưu sửa đổi quy định về thi đua, khen thưởng.".into(),
            ..Default::default()
        },
        items: vec![ItemInput {
            task_id: "kiem-tra-thuong-xuyen".into(),
            state: None,
            progress_percent: 50,
            done: "Kiểm tra công tác thi đua, khen thưởng tại 04 đơn vị.".into(),
            achieved: vec![],
            evidence: None,
        }],
    };
    let draft = reports::create(&svc, &who, PLAN_ID, Some("snv-2020-q3".into()), report, None).await?;
    reports::submit(&svc, &who, PLAN_ID, &draft.report_id, "", None).await?;
    reports::review(&svc, &who, PLAN_ID, &draft.report_id, Review::Accept("Đạt.".into()), "", None).await?;

    // The resistance-era dossiers need more time: asked and approved, recorded.
    clock.set(morning(2021, 6, 10));
    let reason = "Hồ sơ cần xác minh với cơ quan Trung ương; đề nghị gia hạn.".to_owned();
    tasks::request_extension(&svc, &who, PLAN_ID, "ho-so-khang-chien", day(2027, 6, 30), reason, None).await?;
    clock.set(morning(2021, 6, 15));
    let comment = "Đồng ý gia hạn.".to_owned();
    tasks::decide_extension(&svc, &who, PLAN_ID, "ho-so-khang-chien", true, None, comment, None).await?;
    Ok(true)
}
