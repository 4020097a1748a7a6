//! The subjects (科目) a member of staff may charge by hand: each a code
//! that reports group by and the Japanese label printed on slips.

/// A subject: its code and its label as printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subject {
    pub code: &'static str,
    /// Printed on slips and shown to residents (Japanese, as the city bills).
    pub label: &'static str,
}

/// The subjects offered on the new-charge form.
pub const ALL: [Subject; 6] = [
    Subject {
        code: "kokuho",
        label: "国民健康保険税",
    },
    Subject {
        code: "kaigo",
        label: "介護保険料",
    },
    Subject {
        code: "kouki",
        label: "後期高齢者医療保険料",
    },
    Subject {
        code: "hoiku",
        label: "保育料",
    },
    Subject {
        code: "fee",
        label: "手数料",
    },
    Subject {
        code: "other",
        label: "その他の収入",
    },
];

pub fn find(code: &str) -> Option<Subject> {
    ALL.into_iter().find(|s| s.code == code)
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_unique() {
        for (i, a) in super::ALL.iter().enumerate() {
            assert!(super::ALL[i + 1..].iter().all(|b| b.code != a.code));
            assert_eq!(super::find(a.code), Some(*a));
        }
        assert_eq!(super::find("nope"), None);
    }
}
