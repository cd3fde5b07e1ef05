//! An ADS URL template expanded with a player's parameters and a cue's variables.
//! Input: the template on the first line, then `name=value` lines (`!name=value`:
//! substituted verbatim, as configuration aliases are). With no values every
//! placeholder that [`placeholders`] finds expands to nothing and the rest is kept.
#![no_main]

use libfuzzer_sys::fuzz_target;
use splicepoint::ads::template::{expand_template, placeholders, TemplateVars};

fuzz_target!(|text: &str| {
    let mut lines = text.split('\n');
    let template = lines.next().unwrap_or("");
    let mut vars = TemplateVars::new();
    for line in lines {
        let (verbatim, line) = match line.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        vars.set(k, v);
        if verbatim {
            vars.set_verbatim(k);
        }
    }
    let _ = expand_template(template, &vars);
    let mut expected = String::with_capacity(template.len());
    let mut at = 0;
    for (range, _) in placeholders(template) {
        expected.push_str(&template[at..range.start]);
        at = range.end;
    }
    expected.push_str(&template[at..]);
    assert_eq!(expand_template(template, &TemplateVars::new()), expected);
});
