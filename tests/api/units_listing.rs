//! ListUnits: keyset pagination, filters and diacritic-insensitive search.

use std::collections::BTreeSet;

use followup::api::proto::followup::v1::{self as pb, UnitKind};
use followup::api::proto::google::r#type::Date;
use tonic::Code;

use crate::helpers::{TestApp, UnitClient};
use crate::units::{create, unit};
use crate::{assert_error, violated_fields};

async fn list(client: &mut UnitClient, filter: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_units(pb::ListUnitsRequest { page_size: 2, page_token: token, filter: filter.into() })
            .await
            .unwrap_or_else(|s| panic!("{filter}: {s:?}"))
            .into_inner();
        names.extend(page.units.into_iter().map(|u| u.name));
        if page.next_page_token.is_empty() {
            return names;
        }
        token = page.next_page_token;
    }
}

#[tokio::test]
async fn pages_have_no_gaps_or_duplicates_while_rows_are_inserted() {
    let app = TestApp::spawn().await;
    let mut client = app.units(&app.admin_key("hau-giang").await);
    for i in 0..25 {
        create(&mut client, &format!("u{i:02}"), unit(&format!("Đơn vị {i}"), &format!("U{i}"), UnitKind::Agency))
            .await;
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut inserted = 0;
    loop {
        let page = client
            .list_units(pb::ListUnitsRequest { page_size: 4, page_token: token, filter: String::new() })
            .await
            .unwrap()
            .into_inner();
        assert!(page.units.len() <= 4);
        seen.extend(page.units.iter().map(|u| u.name.clone()));
        // Between pages, new units land both before and after the cursor.
        create(&mut client, &format!("a{inserted:02}"), unit("Mới", &format!("A{inserted}"), UnitKind::Agency)).await;
        create(&mut client, &format!("z{inserted:02}"), unit("Mới", &format!("Z{inserted}"), UnitKind::Agency)).await;
        inserted += 1;
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in name order");
    for i in 0..25 {
        assert!(unique.contains(&format!("units/u{i:02}")), "every unit that existed throughout is seen: u{i:02}");
    }
}

#[tokio::test]
async fn page_size_and_tokens_are_checked() {
    let app = TestApp::spawn().await;
    let mut client = app.units(&app.admin_key("hau-giang").await);
    for i in 0..3 {
        create(&mut client, &format!("u{i}"), unit("Đơn vị", &format!("U{i}"), UnitKind::Agency)).await;
    }
    let status = client.list_units(pb::ListUnitsRequest { page_size: -1, ..Default::default() }).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["page_size"]);
    let all = client
        .list_units(pb::ListUnitsRequest { page_size: 100_000, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.units.len(), 3);
    assert!(all.next_page_token.is_empty(), "the last page has no token");

    let first =
        client.list_units(pb::ListUnitsRequest { page_size: 1, ..Default::default() }).await.unwrap().into_inner();
    let token = first.next_page_token;
    // A token is bound to its filter, and cannot be forged or altered.
    let status = client
        .list_units(pb::ListUnitsRequest {
            page_size: 1,
            page_token: token.clone(),
            filter: "kind = UNIT_KIND_AGENCY".into(),
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
    assert_eq!(violated_fields(&status), ["page_token"]);
    let tampered = format!("{}{}", if token.starts_with('d') { "e" } else { "d" }, &token[1..]);
    for bad in [tampered.as_str(), "garbage", "dTA.AAAAAAAAAAAAAAAAAAAAAA"] {
        let status = client
            .list_units(pb::ListUnitsRequest { page_size: 1, page_token: bad.into(), ..Default::default() })
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&status), ["page_token"], "{bad}");
    }
    // A token of one province is worthless in another.
    let mut other = app.units(&app.admin_key("can-tho").await);
    let status = other
        .list_units(pb::ListUnitsRequest { page_size: 1, page_token: token.clone(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["page_token"]);
    // The page size may change between pages (AIP-158).
    let rest = client
        .list_units(pb::ListUnitsRequest { page_size: 5, page_token: token, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.units.len(), 2);
}

#[tokio::test]
async fn filters_by_parent_kind_code_activity_and_text() {
    let app = TestApp::spawn().await;
    let mut client = app.units(&app.admin_key("hau-giang").await);
    let day = |y, m, d| Some(Date { year: y, month: m, day: d });
    create(
        &mut client,
        "ubnd",
        pb::Unit {
            valid_from: day(2004, 1, 1),
            ..unit("Ủy ban nhân dân tỉnh Hậu Giang", "UBND", UnitKind::PeoplesCommittee)
        },
    )
    .await;
    create(
        &mut client,
        "snv",
        pb::Unit {
            parent: "units/ubnd".into(),
            valid_from: day(2004, 1, 1),
            ..unit("Sở Nội vụ", "SNV", UnitKind::Department)
        },
    )
    .await;
    create(
        &mut client,
        "stc",
        pb::Unit {
            parent: "units/ubnd".into(),
            valid_from: day(2004, 1, 1),
            ..unit("Sở Tài chính", "STC", UnitKind::Department)
        },
    )
    .await;
    create(
        &mut client,
        "vi-thanh",
        pb::Unit {
            parent: "units/ubnd".into(),
            valid_from: day(2004, 1, 1),
            ..unit("Thành phố Vị Thanh", "VT", UnitKind::Commune)
        },
    )
    .await;
    create(
        &mut client,
        "ban-tdkt",
        pb::Unit {
            parent: "units/snv".into(),
            valid_from: day(2010, 1, 1),
            ..unit("Ban Thi đua - Khen thưởng", "BTĐKT", UnitKind::Agency)
        },
    )
    .await;
    client
        .dissolve_unit(pb::DissolveUnitRequest {
            name: "units/vi-thanh".into(),
            valid_to: day(2025, 7, 1),
            ..Default::default()
        })
        .await
        .unwrap();

    let cases: &[(&str, &[&str])] = &[
        ("", &["ban-tdkt", "snv", "stc", "ubnd", "vi-thanh"]),
        (r#"parent = "units/ubnd""#, &["snv", "stc", "vi-thanh"]),
        (r#"parent = """#, &["ubnd"]),
        ("kind = UNIT_KIND_DEPARTMENT", &["snv", "stc"]),
        (r#"code = "BTĐKT""#, &["ban-tdkt"]),
        (r#"active_on = "2025-06-30""#, &["ban-tdkt", "snv", "stc", "ubnd", "vi-thanh"]),
        (r#"active_on = "2025-07-01""#, &["ban-tdkt", "snv", "stc", "ubnd"]),
        (r#"active_on = "2005-01-01""#, &["snv", "stc", "ubnd", "vi-thanh"]),
        // Diacritics and case do not matter, in the query or in the name.
        (r#""so noi vu""#, &["snv"]),
        (r#""SỞ NỘI VỤ""#, &["snv"]),
        (r#""thi dua""#, &["ban-tdkt"]),
        (r#""btdkt""#, &["ban-tdkt"]),
        (r#""vi thanh""#, &["vi-thanh"]),
        (r#""so" AND kind = UNIT_KIND_DEPARTMENT AND parent = "units/ubnd""#, &["snv", "stc"]),
        // Unicode oddities: NFD input, zero-width and right-to-left marks.
        ("\"So\u{31b} no\u{323}\u{302}i\"", &["snv"]),
        ("\"so\u{200B} noi\u{200F} vu\"", &["snv"]),
        // LIKE and SQL metacharacters are plain text.
        (r#""%""#, &[]),
        (r#""_""#, &[]),
        (r#""'; drop table units; --""#, &[]),
    ];
    for (filter, expected) in cases {
        let names = list(&mut client, filter).await;
        let expected: Vec<String> = expected.iter().map(|id| format!("units/{id}")).collect();
        assert_eq!(names, expected, "filter {filter}");
    }
}

#[tokio::test]
async fn bad_filters_are_refused_with_the_reason() {
    let app = TestApp::spawn().await;
    let mut client = app.units(&app.admin_key("hau-giang").await);
    for (filter, hint) in [
        ("colour = RED", "unknown field"),
        ("kind = PURPLE", "not a UnitKind"),
        ("kind != UNIT_KIND_AGENCY", "not supported"),
        (r#"active_on = "hôm qua""#, "YYYY-MM-DD"),
        (r#"parent = "units/""#, "parent"),
        ("kind =", "expected a value"),
        (r#""unterminated"#, "unterminated"),
    ] {
        let status =
            client.list_units(pb::ListUnitsRequest { filter: filter.into(), ..Default::default() }).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
        assert_eq!(violated_fields(&status), ["filter"]);
        assert!(status.message().contains(hint), "{filter}: {}", status.message());
    }
}
