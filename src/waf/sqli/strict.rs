//! The paranoia level 2 rules: shapes that the CRS level-2 rules (942120 to 942522) look for
//! and that the level-1 rules leave alone because they also occur in ordinary text — a lone
//! SQL operator, a function name left open at the end of a value, a value that opens with
//! a quote and an operator, `execute x`, a dangling `AND`. They run only when [`super::detect`]
//! found nothing, on the value as given and, when it still holds a `%XX` escape, once
//! form-decoded. Each is one linear regex (no backtracking) or a bounded pass; the regexes
//! are matched together, once, by a `RegexSet` over the bytes with ASCII classes (see
//! `ascii`): on a 1.2 KB prose value the pass costs about what level 1 does (~10 µs in an
//! optimised build on the 2-vCPU bench machine; with Unicode classes it was ~1 ms).

use regex::bytes::{Regex, RegexSet};
use std::sync::LazyLock;

use super::{finding, percent_decoded, Finding};

/// A function name of the CRS 942410 list kind (SQL built-ins) followed by at most eight
/// non-word bytes and a `(` that ends the value.
const CALL_NAMES: &str = concat!(
    "abs|acos|asin|atan2?|avg|ascii|benchmark|bin|bit_and|bit_count|bit_length|bit_or|",
    "bit_xor|cast|ceil|ceiling|char|char_length|character_length|charset|chr|coalesce|",
    "coercibility|collation|compress|concat|concat_ws|connection_id|conv|convert|convert_tz|",
    "cos|cot|count|crc32|curdate|current_date|current_time|current_timestamp|current_user|",
    "curtime|database|date|date_add|date_format|date_sub|datediff|day|dayname|dayofmonth|",
    "dayofweek|dayofyear|decode|default|degrees|des_decrypt|des_encrypt|elt|encode|encrypt|",
    "exp|export_set|extract|extractvalue|field|find_in_set|floor|format|found_rows|",
    "from_base64|from_days|from_unixtime|get_format|get_lock|greatest|group_concat|hex|",
    "hextoraw|hour|if|ifnull|iif|in|inet_aton|inet_ntoa|insert|instr|interval|is_free_lock|",
    "is_used_lock|isnull|last_day|last_insert_id|lcase|least|left|length|ln|load_file|",
    "local|localtime|localtimestamp|locate|log|log10|log2|lower|lpad|ltrim|make_set|",
    "makedate|master_pos_wait|max|md5|mid|min|minute|mod|month|monthname|name_const|now|",
    "nullif|oct|octet_length|old_password|ord|password|period_add|period_diff|pg_sleep|pi|",
    "position|pow|power|procedure_analyse|quarter|quote|radians|rand|rawtohex|release_lock|",
    "repeat|replace|reverse|right|round|row_count|rpad|rtrim|schema|sec_to_time|second|",
    "session_user|sha|sha1|sha2|sign|sin|sleep|soundex|space|sqrt|std|stddev|str_to_date|",
    "strcmp|subdate|substr|substring|substring_index|subtime|sum|sysdate|system_user|tan|",
    "time|time_format|time_to_sec|timediff|timestamp|timestampadd|timestampdiff|to_base64|",
    "to_char|to_days|to_seconds|trim|truncate|ucase|uncompress|unhex|unix_timestamp|",
    "updatexml|upper|user|utc_date|utc_time|utc_timestamp|uuid|values|variance|version|week|",
    "weekday|weekofyear|weight_string|xmltype|year|yearweek"
);

/// The regex rules, in the order they are tried: (rule id, pattern).
fn patterns() -> Vec<(&'static str, String)> {
    let p = |rule: &'static str, re: &str| (rule, re.to_owned());
    vec![
        // ---- sqli-pl2-function
        (
            "sqli-pl2-function",
            format!(r"(?i)\b(?:{CALL_NAMES})\W{{0,8}}\(\s*$"),
        ),
        p(
            "sqli-pl2-function",
            r"(?i)\b(?:sleep|pg_sleep|benchmark)\s*\(\s*\d",
        ),
        p(
            "sqli-pl2-function",
            r"(?i)\b(?:chr|char)\s*\(\s*\d+\s*\)\s*(?:\.|\|\||\+|,)\s*(?:chr|char)\s*\(",
        ),
        // ---- sqli-pl2-operator
        p(
            "sqli-pl2-operator",
            r"(?i)^\s*(?:&&|\|\||!=|==|<=>?|>=|<>|<<|>>|->>?|xor|r?like|regexp|(?:is|like)(?:\s+not)?\s+null|not\s+(?:like|between|regexp|in))\s*$",
        ),
        p("sqli-pl2-operator", r#"(?i)^\s*in\s*\(\s*[\d"'][^()]*\)"#),
        p("sqli-pl2-operator", r"(?i)^\s*in\s*\([^()]*\)\s*$"),
        p("sqli-pl2-operator", r"(?:&&|\|\|)\s*\(\s*\w+\s*[!=]="),
        p("sqli-pl2-operator", r"(?i)\d(?:\|\||&&)[a-z_]\w*\.[a-z_]"),
        p(
            "sqli-pl2-operator",
            r#"(?i)["'`]\s+(?:regexp|rlike|sounds\s+like)\W"#,
        ),
        p("sqli-pl2-operator", r#"(?i)\w\s+like\s+["'`]\s*$"#),
        // ---- sqli-pl2-logic
        p("sqli-pl2-logic", r"(?i)[\w)]\s+(?:and|x?or)\s*\(?\s*$"),
        p(
            "sqli-pl2-logic",
            r#"(?i)^[\\"'`]*[\d"'`]+\s*(?:and|x?or)\s*[\w"']+[!&()+\-@]"#,
        ),
        p("sqli-pl2-logic", r#"(?i)^\s*(?:and|x?or|&&|\|\|)\s+[\d"']"#),
        p(
            "sqli-pl2-logic",
            r#"(?i)["']\s+x?or\s+\S[^"']{0,19}?[!+\-<=>~@]"#,
        ),
        p("sqli-pl2-logic", r#"(?i)["'\d]\s*(?:x?or|and)\s*--"#),
        p(
            "sqli-pl2-logic",
            r#"(?i)\\["'`](?:[^"'`]*["'`])?\s*(?:and|or)\b"#,
        ),
        // ---- sqli-pl2-probe
        p(
            "sqli-pl2-probe",
            r#"(?i)^\s*["'`]+\s*(?:;|[*=?#^|&<>%](?:\s|$)|(?:x?or|r?like|regexp|div|mod|sounds\s+like|is\s+not|not\s+(?:like|in|between|regexp|null))\s+[^"'`\s])"#,
        ),
        p("sqli-pl2-probe", r#"\^["'`]"#),
        p("sqli-pl2-probe", r#"^\s*(?:"'|'"|"`|`"|'`|`')\s*$"#),
        p("sqli-pl2-probe", r#"\d["'`]\s+["'`]\s+\d"#),
        p("sqli-pl2-probe", r#"^[()'";=#*\-]{12,}$"#),
        p("sqli-pl2-probe", r"(?i)\\x(?:2[37]|3d)"),
        p("sqli-pl2-probe", r"^\s*'[^']*'\s*,\s*(?:'|0x|\(|\d)"),
        p("sqli-pl2-probe", r"(?i)(?:^|\W)0x[0-9a-f]{3,}"),
        p("sqli-pl2-probe", r"^\s*`[\w\s=\-+{}()<@]{2,29}`\s*$"),
        p("sqli-pl2-probe", r#"(?i)^admin\s*["'`]"#),
        p("sqli-pl2-probe", r#"^\s*,\s*[\w.]+\s*["'`]"#),
        // ---- sqli-pl2-statement
        p("sqli-pl2-statement", r"(?i)^\s*exec(?:ute)?\s+[\w$.]+\s*$"),
        p(
            "sqli-pl2-statement",
            r"(?i)^\s*(?:order|group)\s+by(?:\s+[\w.]+)?\s*$",
        ),
        p(
            "sqli-pl2-statement",
            r#"(?i)^[\W\d]*?["'`][\W\d]*(?:alter|union)\b[^"'`]*$"#,
        ),
        p("sqli-pl2-statement", r"(?i)=\s*\(\s*select\b"),
        p("sqli-pl2-statement", r"(?i)(?:^|\W)set\s*@\w+"),
        p(
            "sqli-pl2-statement",
            r"(?i);\s*(?:alter|drop|insert|update)\s*\w{2,}\s*(?:$|;|--|#)",
        ),
        p(
            "sqli-pl2-statement",
            r#"(?i)[^\w\s]\s*as\b\s*["'\w]+\s*from\b|\d\s+as\s*["'`]\s*from\b"#,
        ),
    ]
}

struct Rules {
    set: RegexSet,
    each: Vec<(&'static str, Regex)>,
    /// `a != b`, `1 is not 2`: the whole value one inequality between two operands.
    inequality: Regex,
    /// `, x = x`: a comparison of an operand with itself after a comma.
    same_operands: Regex,
}

/// The patterns read bytes with ASCII classes (`(?-u)`: `\w`, `\s`, `\b` and case folding
/// are ASCII, as SQL keywords are): the lazy DFA stays small and matches every pattern in one
/// pass (Unicode classes under `(?i)` make it give up for a slower, still linear, engine).
fn ascii(p: &str) -> String {
    format!("(?-u){p}")
}

static LEVEL2: LazyLock<Rules> = LazyLock::new(|| {
    let pats: Vec<_> = patterns()
        .into_iter()
        .map(|(rule, p)| (rule, ascii(&p)))
        .collect();
    Rules {
        set: RegexSet::new(pats.iter().map(|(_, p)| p)).expect("valid regex set"),
        each: pats
            .iter()
            .map(|(rule, p)| (*rule, Regex::new(p).expect("valid regex")))
            .collect(),
        inequality: Regex::new(&ascii(
            r"(?i)^\s*(\w+)\s*(?:!=|<>|<=?|>=?|\bis\s+not\b|\bnot\s+(?:r?like|regexp)\b)\s*(\w+)\s*$",
        ))
        .expect("valid regex"),
        same_operands: Regex::new(&ascii(r"(?i),\s*(\w+)\s*=\s*(\w+)\b"))
            .expect("valid regex"),
    }
});

/// Builds the level-2 regexes now (see [`super::warm_up`]).
pub(super) fn warm_up() {
    LazyLock::force(&LEVEL2);
}

/// The level-2 rules on one value (as given, then once form-decoded when it still holds a
/// `%XX` escape; a finding on the decoded value spans the whole value).
pub(super) fn detect_strict(input: &str) -> Option<Finding> {
    if input.len() < 2 {
        return None;
    }
    strict(input).or_else(|| {
        let decoded = percent_decoded(input.as_bytes())?;
        strict(&decoded).map(|f| finding(input, f.rule, 0, input.len()))
    })
}

fn strict(input: &str) -> Option<Finding> {
    let rules = &*LEVEL2;
    let b = input.as_bytes();
    if let Some(i) = rules.set.matches(b).iter().next() {
        let (rule, re) = &rules.each[i];
        let m = re.find(b)?;
        return Some(finding(input, rule, m.start(), m.end()));
    }
    if let Some(c) = rules.inequality.captures(b) {
        let m = c.get(0)?;
        return Some(finding(input, "sqli-pl2-operator", m.start(), m.end()));
    }
    for c in rules.same_operands.captures_iter(b) {
        let (x, y) = (c.get(1)?, c.get(2)?);
        if x.as_bytes().eq_ignore_ascii_case(y.as_bytes()) {
            return Some(finding(input, "sqli-pl2-operator", x.start(), y.end()));
        }
    }
    typographic_quotes(input)
}

/// `1’ OR ’1’=’1`: typographic quotes (’ ‘ ´) used as SQL quotes. Level 1 leaves them alone
/// (prose is full of ’); here the level-1 rules read the value once more with them as `'`.
fn typographic_quotes(input: &str) -> Option<Finding> {
    if !input.contains(['’', '‘', '´']) {
        return None;
    }
    let ascii: String = input
        .chars()
        .map(|c| {
            if matches!(c, '’' | '‘' | '´') {
                '\''
            } else {
                c
            }
        })
        .collect();
    super::detect(&ascii).map(|_| finding(input, "sqli-pl2-probe", 0, input.len()))
}
