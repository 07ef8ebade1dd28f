use super::*;

fn known<'a>(location: &'a Location, text: &'a str) -> Resolved<'a> {
    Resolved::Known {
        text: text.into(),
        origin: Origin {
            location,
            width: 1,
            config_index: None,
            key: "",
        },
    }
}

fn text(expansion: Expansion<'_>) -> String {
    match expansion {
        Expansion::Text(text) => text.into_owned(),
        Expansion::Unknown => "(unknown)".to_string(),
        Expansion::TooLong(length) => format!("(too long: {length})"),
        Expansion::OverBudget => "(over budget)".to_string(),
    }
}

#[test]
fn expands_defined_variables_and_escapes() {
    let mut env = Environment::default();
    let location = Location::new(&crate::diagnostic::FileName::from("f"), 1, 1);
    env.set(
        Cow::Borrowed("HOST"),
        known(&location, "nats-server"),
        Vec::new(),
        None,
        (&location, 1),
    );
    let mut budget = Budget::new(1024);
    let (expansion, undefined) = env.expand("nats://$(HOST):$(PORT)/$$(HOST)$", 1024, &mut budget);
    assert_eq!(text(expansion), "nats://nats-server:$(PORT)/$(HOST)$");
    assert_eq!(undefined, ["PORT"]);
    assert_eq!(budget.remaining, 1024 - 35);
}

#[test]
fn values_too_long_or_over_the_budget_are_not_built() {
    let mut env = Environment::default();
    let location = Location::new(&crate::diagnostic::FileName::from("f"), 1, 1);
    let place = (&location, 1);
    env.set(
        Cow::Borrowed("A"),
        known(&location, "abcd"),
        Vec::new(),
        None,
        place,
    );
    env.set(
        Cow::Borrowed("X"),
        Resolved::Unknown,
        Vec::new(),
        None,
        place,
    );
    let mut budget = Budget::new(8);
    let (expansion, _) = env.expand("$(A)$(A)$(A)", 10, &mut budget);
    assert_eq!(text(expansion), "(too long: 12)");
    // Too long for certain, whatever the unknown value adds.
    let (expansion, _) = env.expand("$(X)$(A)$(A)$(A)", 10, &mut budget);
    assert_eq!(text(expansion), "(too long: 12)");
    let (expansion, _) = env.expand("$(X)$(A)", 10, &mut budget);
    assert_eq!(text(expansion), "(unknown)");
    assert_eq!(budget.remaining, 8, "nothing was built");
    let (expansion, _) = env.expand("$(A)$(A)", 10, &mut budget);
    assert_eq!(text(expansion), "abcdabcd");
    let (expansion, _) = env.expand("$(A)", 10, &mut budget);
    assert_eq!(text(expansion), "(over budget)");
    // A value that expands to nothing new costs nothing.
    let (expansion, _) = env.expand("plain", 10, &mut budget);
    assert_eq!(text(expansion), "plain");
}

#[test]
fn a_doubling_chain_is_measured_without_being_built() {
    let mut env = Environment::default();
    let location = Location::new(&crate::diagnostic::FileName::from("f"), 1, 1);
    let place = (&location, 1);
    let names: Vec<String> = (0..=64).map(|i| format!("V{i}")).collect();
    let values: Vec<String> = (1..=64)
        .map(|i| format!("$(V{})$(V{})", i - 1, i - 1))
        .collect();
    env.set(
        Cow::Borrowed(&names[0]),
        known(&location, "ab"),
        Vec::new(),
        None,
        place,
    );
    let mut budget = Budget::new(EXPANSION_BUDGET);
    for i in 1..=64 {
        let (expansion, _) = env.expand(&values[i - 1], MAX_ENV_STRING, &mut budget);
        let (value, too_long) = match expansion {
            Expansion::Text(text) => (
                Resolved::Known {
                    text,
                    origin: Origin {
                        location: &location,
                        width: 1,
                        config_index: None,
                        key: "",
                    },
                },
                None,
            ),
            Expansion::TooLong(length) => (Resolved::Unknown, Some(length)),
            _ => panic!("V{i} is known"),
        };
        env.set_sized(
            Cow::Borrowed(&names[i]),
            value,
            Vec::new(),
            None,
            place,
            too_long,
        );
    }
    // V17, 2 << 17 bytes, is the first value over the limit given: V1 to V16, 4 + 8 +
    // ... + 2 << 16 bytes, were built. With its name, V16's string is too long too.
    assert_eq!(EXPANSION_BUDGET - budget.remaining, (2 << 17) - 4);
    assert_eq!(env.lengths[64].0, usize::MAX, "the length saturates");
    let oversize = env.oversize().expect("too long");
    assert_eq!(oversize.kind, OversizeKind::String);
    assert_eq!(oversize.name, "V16");
    assert_eq!(oversize.others, 48);
}
