//! RASP's judges on arbitrary sink values and inputs: the SQL verdict in the three dialects,
//! the file-path and shell checks (the URL check resolves host names, so it is left to the
//! tests). Asserts what needs no second implementation to check: a reported range lies in the
//! value, on character boundaries; an input that occurs nowhere in the value (nor, for SQL, in
//! an escaped form) is never reported; a value holding none of the inputs is never an exploit.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sqreen::rasp::sql::{first_injection, Dialect};
use sqreen::rasp::{find_in, Inputs, Sink};

#[derive(Arbitrary, Debug)]
struct Case {
    dialect: u8,
    target: String,
    inputs: Vec<String>,
}

fuzz_target!(|case: Case| {
    let inputs: Vec<&str> = case.inputs.iter().take(16).map(String::as_str).collect();
    let dialect = match case.dialect % 3 {
        0 => Dialect::Sqlite,
        1 => Dialect::Postgres,
        _ => Dialect::MySql,
    };
    let target = case.target.as_str();
    if let Some((i, range)) = first_injection(target, dialect, inputs.iter().copied()) {
        assert!(i < inputs.len());
        let part = target
            .get(range.clone())
            .unwrap_or_else(|| panic!("{range:?} is not a part of {target:?}"));
        let input = inputs[i];
        // the input itself, or the form a naive escaper makes of it
        let forms = [
            input.to_owned(),
            input.replace('\'', "''"),
            input.replace('\'', "\\'"),
            input.replace('"', "\"\""),
            input.replace('"', "\\\""),
        ];
        assert!(forms.iter().any(|f| f == part), "{part:?} is no form of {input:?}");
    }
    let named: Vec<(String, &str)> = inputs
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("input{i}"), *v))
        .collect();
    let given = Inputs::from_pairs(named.iter().map(|(n, v)| (n.as_str(), *v)));
    for sink in [Sink::File, Sink::Shell, Sink::Sql] {
        if let Some(name) = find_in(sink, target, &given) {
            let i: usize = name.trim_start_matches("input").parse().unwrap();
            let input = inputs[i];
            if sink != Sink::Sql {
                assert!(target.contains(input), "{sink:?}: {input:?} is not in {target:?}");
            }
        }
    }
    if inputs.iter().all(|i| !target.contains(i) && !target.contains(&i.replace('\'', "''"))
        && !target.contains(&i.replace('\'', "\\'")) && !target.contains(&i.replace('"', "\"\""))
        && !target.contains(&i.replace('"', "\\\"")))
    {
        assert!(first_injection(target, dialect, inputs.iter().copied()).is_none());
    }
});
