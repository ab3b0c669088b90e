//! Turning parsed filter terms into typed query values, with one violation on `filter`
//! that says what is wrong and what the field takes.

use std::collections::VecDeque;

use chrono::NaiveDate;

use crate::domain::filter::{self, Op, Term, Value};
use crate::domain::resource_name;
use crate::domain::text::fold_for_search;
use crate::error::Error;

fn bad(description: impl std::fmt::Display) -> Error {
    Error::invalid("filter", description)
}

/// A filter's terms: free texts and comparisons.
#[derive(Debug)]
pub struct FilterTerms {
    texts: Vec<String>,
    comparisons: VecDeque<Comparison>,
}

/// One `field op value` term.
#[derive(Debug)]
pub struct Comparison {
    /// The field as written.
    pub field: String,
    /// The operator.
    pub op: Op,
    /// The value.
    pub value: Value,
}

impl FilterTerms {
    /// Parses `filter`; a syntax error is INVALID_ARGUMENT on `filter` with its position.
    pub fn parse(filter: &str) -> Result<Self, Error> {
        let mut texts = Vec::new();
        let mut comparisons = VecDeque::new();
        for term in filter::parse(filter).map_err(bad)? {
            match term {
                Term::Text(text) => {
                    let folded = fold_for_search(&text);
                    if !folded.is_empty() {
                        texts.push(folded);
                    }
                }
                Term::Compare { field, op, value } => comparisons.push_back(Comparison { field, op, value }),
            }
        }
        Ok(Self { texts, comparisons })
    }

    /// The free texts, folded for search.
    pub fn texts(&mut self) -> Vec<String> {
        std::mem::take(&mut self.texts)
    }

    /// The next comparison.
    pub fn next_comparison(&mut self) -> Option<Comparison> {
        self.comparisons.pop_front()
    }
}

impl Comparison {
    fn shape(&self, takes: &str) -> Error {
        bad(format!("{} {} {:?} is not supported: {} takes {takes}", self.field, self.op, self.value, self.field))
    }

    /// `field = "text"`.
    pub fn string_eq(&self) -> Result<String, Error> {
        match (&self.op, &self.value) {
            (Op::Eq, Value::Str(s)) => Ok(s.clone()),
            _ => Err(self.shape("= and a quoted value")),
        }
    }

    /// `field = "collection/id"`: the ID.
    pub fn id_eq(&self, collection: &'static str) -> Result<String, Error> {
        let name = self.string_eq()?;
        resource_name::parse(collection, &name).map_err(|e| bad(format!("{} {e}", self.field)))
    }

    /// `field = ENUM_VALUE`, parsed by `parse` (which knows the enum's names).
    pub fn enum_eq<T>(&self, type_name: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, Error> {
        match (&self.op, &self.value) {
            (Op::Eq, Value::Ident(name)) => {
                parse(name).ok_or_else(|| bad(format!("{name} is not a {type_name} value usable in {}", self.field)))
            }
            _ => Err(self.shape(&format!("= and a {type_name} value without quotes"))),
        }
    }

    /// `field = true` or `field = false`.
    pub fn bool_eq(&self) -> Result<bool, Error> {
        match (&self.op, &self.value) {
            (Op::Eq, Value::Ident(v)) if v == "true" => Ok(true),
            (Op::Eq, Value::Ident(v)) if v == "false" => Ok(false),
            _ => Err(self.shape("= true or = false")),
        }
    }

    /// `field op "YYYY-MM-DD"` with any comparison but `!=`.
    pub fn date(&self) -> Result<(Op, NaiveDate), Error> {
        match (&self.op, &self.value) {
            (Op::Ne, _) => Err(self.shape("=, <, <=, > or >= and a date")),
            (op, Value::Str(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(|day| (*op, day))
                .map_err(|_| bad(format!("{} takes a date as \"YYYY-MM-DD\", not {s:?}", self.field))),
            _ => Err(self.shape("a quoted date \"YYYY-MM-DD\"")),
        }
    }

    /// The error for a field this list does not filter on.
    pub fn unknown(&self, known: &[&str]) -> Error {
        bad(format!("unknown field {:?}; filterable fields are {}", self.field, known.join(", ")))
    }
}

/// Narrows an inclusive date range by a date comparison.
pub fn date_bound(term: &Comparison, from: &mut Option<NaiveDate>, to: &mut Option<NaiveDate>) -> Result<(), Error> {
    let (op, day) = term.date()?;
    let tighten_from = |from: &mut Option<NaiveDate>, day: NaiveDate| *from = Some(from.map_or(day, |f| f.max(day)));
    let tighten_to = |to: &mut Option<NaiveDate>, day: NaiveDate| *to = Some(to.map_or(day, |t| t.min(day)));
    match op {
        Op::Eq => {
            tighten_from(from, day);
            tighten_to(to, day);
        }
        Op::Ge => tighten_from(from, day),
        Op::Gt => tighten_from(from, day.succ_opt().unwrap_or(day)),
        Op::Le => tighten_to(to, day),
        Op::Lt => tighten_to(to, day.pred_opt().unwrap_or(day)),
        Op::Ne => return Err(term.shape("=, <, <=, > or >= and a date")),
    }
    Ok(())
}
