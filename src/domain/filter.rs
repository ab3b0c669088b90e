//! The subset of the AIP-160 filter grammar that list methods accept.
//!
//! ```text
//! filter     = term { "AND" term }
//! term       = comparison | text
//! comparison = field ( "=" | "!=" | "<" | "<=" | ">" | ">=" ) value
//! value      = string | identifier        (identifiers are enum values)
//! text       = string                     (a free-text search)
//! string     = '"' { char | '\"' | '\\' } '"'
//! ```
//!
//! Parsing is resource-independent; each list method then checks the fields and values it
//! supports, so unknown fields are rejected by name rather than silently ignored.

use std::fmt;

/// The longest filter accepted, in characters; real filters are a few terms.
pub const MAX_FILTER_CHARS: usize = 2000;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        })
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A quoted string, unescaped.
    Str(String),
    /// A bare identifier, such as an enum value name.
    Ident(String),
}

/// One term of the conjunction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// `field op value`
    Compare {
        /// The field name as written.
        field: String,
        /// The operator.
        op: Op,
        /// The value.
        value: Value,
    },
    /// A bare quoted string: free-text search.
    Text(String),
}

/// Why a filter could not be parsed; `position` counts characters from 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position}")]
pub struct FilterError {
    /// What is wrong.
    pub message: String,
    /// Where, in characters from the start.
    pub position: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Str(String),
    Op(Op),
    And,
}

fn error(message: impl Into<String>, position: usize) -> FilterError {
    FilterError { message: message.into(), position }
}

fn tokenize(input: &str) -> Result<Vec<(usize, Token)>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
        } else if c == '=' {
            tokens.push((start, Token::Op(Op::Eq)));
            i += 1;
        } else if c == '!' {
            if chars.get(i + 1) != Some(&'=') {
                return Err(error("expected '=' after '!'", i + 1));
            }
            tokens.push((start, Token::Op(Op::Ne)));
            i += 2;
        } else if c == '<' || c == '>' {
            let or_equal = chars.get(i + 1) == Some(&'=');
            let op = match (c, or_equal) {
                ('<', false) => Op::Lt,
                ('<', true) => Op::Le,
                (_, false) => Op::Gt,
                (_, true) => Op::Ge,
            };
            tokens.push((start, Token::Op(op)));
            i += if or_equal { 2 } else { 1 };
        } else if c == '"' {
            i += 1;
            let mut value = String::new();
            loop {
                match chars.get(i) {
                    None => return Err(error("unterminated string", start)),
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => match chars.get(i + 1) {
                        Some(&e @ ('"' | '\\')) => {
                            value.push(e);
                            i += 2;
                        }
                        _ => return Err(error("only \\\" and \\\\ may be escaped", i)),
                    },
                    Some(&other) => {
                        value.push(other);
                        i += 1;
                    }
                }
            }
            tokens.push((start, Token::Str(value)));
        } else if c.is_ascii_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            tokens.push((start, if word == "AND" { Token::And } else { Token::Ident(word) }));
        } else {
            return Err(error(format!("unexpected character {c:?}"), start));
        }
    }
    Ok(tokens)
}

/// Parses a filter into its terms; an empty filter has none.
pub fn parse(input: &str) -> Result<Vec<Term>, FilterError> {
    let length = input.chars().count();
    if length > MAX_FILTER_CHARS {
        return Err(error(format!("filter is longer than {MAX_FILTER_CHARS} characters"), MAX_FILTER_CHARS));
    }
    let tokens = tokenize(input)?;
    let mut terms = Vec::new();
    let mut iter = tokens.into_iter().peekable();
    loop {
        match iter.next() {
            None if terms.is_empty() => return Ok(terms),
            None => return Err(error("expected a term after AND", length)),
            Some((_, Token::Str(text))) => terms.push(Term::Text(text)),
            Some((_, Token::Ident(field))) => {
                let op = match iter.next() {
                    Some((_, Token::Op(op))) => op,
                    Some((p, _)) => {
                        return Err(error(format!("expected an operator (=, !=, <, <=, >, >=) after {field}"), p));
                    }
                    None => {
                        return Err(error(format!("expected an operator (=, !=, <, <=, >, >=) after {field}"), length));
                    }
                };
                let value = match iter.next() {
                    Some((_, Token::Str(s))) => Value::Str(s),
                    Some((_, Token::Ident(s))) => Value::Ident(s),
                    Some((p, _)) => return Err(error(format!("expected a value for {field}"), p)),
                    None => return Err(error(format!("expected a value for {field}"), length)),
                };
                terms.push(Term::Compare { field, op, value });
            }
            Some((p, _)) => return Err(error("expected a field name or a quoted text", p)),
        }
        match iter.next() {
            None => return Ok(terms),
            Some((_, Token::And)) => continue,
            Some((p, _)) => return Err(error("expected AND between terms", p)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cmp(field: &str, op: Op, value: Value) -> Term {
        Term::Compare { field: field.into(), op, value }
    }

    #[test]
    fn empty_filter_has_no_terms() {
        assert_eq!(parse(""), Ok(vec![]));
        assert_eq!(parse("   "), Ok(vec![]));
    }

    #[test]
    fn parses_conjunction_of_comparisons_and_text() {
        let terms = parse(r#"kind = UNIT_KIND_COMMUNE AND parent != "units/a" AND "sở nội vụ""#).unwrap();
        assert_eq!(
            terms,
            vec![
                cmp("kind", Op::Eq, Value::Ident("UNIT_KIND_COMMUNE".into())),
                cmp("parent", Op::Ne, Value::Str("units/a".into())),
                Term::Text("sở nội vụ".into()),
            ]
        );
    }

    #[test]
    fn parses_ordering_operators() {
        let terms = parse(r#"due_date >= "2020-06-01" AND due_date < "2020-07-01" AND a <= x AND b > y"#).unwrap();
        let ops: Vec<Op> = terms
            .iter()
            .map(|t| match t {
                Term::Compare { op, .. } => *op,
                Term::Text(_) => panic!("no text here"),
            })
            .collect();
        assert_eq!(ops, [Op::Ge, Op::Lt, Op::Le, Op::Gt]);
    }

    #[test]
    fn strings_unescape_quotes_and_backslashes() {
        assert_eq!(parse(r#""a\"b\\c""#), Ok(vec![Term::Text(r#"a"b\c"#.into())]));
    }

    #[test]
    fn sql_metacharacters_are_just_text() {
        assert_eq!(parse(r#""'; drop table units; --""#), Ok(vec![Term::Text("'; drop table units; --".into())]));
    }

    #[test]
    fn errors_name_the_position() {
        assert_eq!(parse("kind UNIT").unwrap_err().position, 5);
        assert_eq!(parse(r#"kind = "x"#).unwrap_err().message, "unterminated string");
        assert_eq!(parse("kind = A AND").unwrap_err().message, "expected a term after AND");
        assert_eq!(parse("kind = A kind = B").unwrap_err().message, "expected AND between terms");
        assert_eq!(parse("kind ! A").unwrap_err().position, 6);
        assert_eq!(parse("kind = ;").unwrap_err().position, 7);
        assert!(parse("a = (b)").is_err());
        assert!(parse(r#""\n""#).is_err());
    }

    #[test]
    fn refuses_overlong_filters() {
        let long = format!("\"{}\"", "a".repeat(MAX_FILTER_CHARS));
        assert!(parse(&long).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(input in "\\PC{0,200}") {
            let _ = parse(&input);
        }

        #[test]
        fn any_quoted_text_round_trips(text in "\\PC{0,50}") {
            let quoted = format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""));
            prop_assert_eq!(parse(&quoted), Ok(vec![Term::Text(text)]));
        }
    }
}
