//! Readings that depend on a number: the 分 of 30分 is ぷん (さんじゅっぷん),
//! not わ; 2日 is ふつか; 1人 is ひとり. A dictionary of words cannot
//! know them, because the counter's reading changes with the number
//! before it (音便). Also the days of the week standing alone, as in a
//! table's headers (月 火 水 …), which are read げつ か すい, not つき ひ
//! みず.

/// The reading of a counter after a number: over the counter alone, or
/// over the number and the counter together (`whole`, where the number
/// itself is read differently: ふつか, ひとり).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterReading {
    pub reading: &'static str,
    pub whole: bool,
}

fn over_counter(reading: &'static str) -> Option<CounterReading> {
    Some(CounterReading {
        reading,
        whole: false,
    })
}

fn over_whole(reading: &'static str) -> Option<CounterReading> {
    Some(CounterReading {
        reading,
        whole: true,
    })
}

/// The value of a run of ASCII or full-width digits (saturating).
pub fn digits_value(digits: &str) -> Option<u64> {
    let mut n: u64 = 0;
    let mut any = false;
    for c in digits.chars() {
        let d = match c {
            '0'..='9' => c as u64 - '0' as u64,
            '０'..='９' => c as u64 - '０' as u64,
            _ => return None,
        };
        n = n.saturating_mul(10).saturating_add(d);
        any = true;
    }
    any.then_some(n)
}

pub fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

/// Days of the month and counts of days read with native numbers.
fn day(n: u64, date: bool) -> Option<CounterReading> {
    match n {
        1 if date => over_whole("ついたち"),
        2 => over_whole("ふつか"),
        3 => over_whole("みっか"),
        4 => over_whole("よっか"),
        5 => over_whole("いつか"),
        6 => over_whole("むいか"),
        7 => over_whole("なのか"),
        8 => over_whole("ようか"),
        9 => over_whole("ここのか"),
        10 => over_whole("とおか"),
        14 => over_whole("じゅうよっか"),
        20 => over_whole("はつか"),
        24 => over_whole("にじゅうよっか"),
        _ => over_counter("にち"),
    }
}

/// The reading of `counter` after the number `n`; `after_month` when the
/// number follows 月 (a date: 4月1日 is ついたち).
pub fn reading(n: u64, counter: char, after_month: bool) -> Option<CounterReading> {
    // 1, 3, 4, 6, 8 and tens make 分 ぷん (いっぷん, さんぷん, じゅっぷん).
    let pun = n != 0 && matches!(n % 10, 0 | 1 | 3 | 4 | 6 | 8);
    match counter {
        '時' => over_counter("じ"),
        '分' if pun => over_counter("ぷん"),
        '分' => over_counter("ふん"),
        '秒' => over_counter("びょう"),
        '人' if n == 1 => over_whole("ひとり"),
        '人' if n == 2 => over_whole("ふたり"),
        '人' => over_counter("にん"),
        '日' => day(n, after_month),
        '月' => over_counter("がつ"),
        '年' => over_counter("ねん"),
        '週' => over_counter("しゅう"),
        '円' => over_counter("えん"),
        '件' => over_counter("けん"),
        '回' => over_counter("かい"),
        '歳' | '才' => over_counter("さい"),
        '名' => over_counter("めい"),
        '番' => over_counter("ばん"),
        '枚' => over_counter("まい"),
        '階' if n % 10 == 3 && n % 100 != 13 => over_counter("がい"),
        '階' => over_counter("かい"),
        '台' => over_counter("だい"),
        '冊' => over_counter("さつ"),
        '通' => over_counter("つう"),
        '部' => over_counter("ぶ"),
        '号' => over_counter("ごう"),
        '割' => over_counter("わり"),
        _ => None,
    }
}

/// A duration with 間 after the counter (3日間 みっかかん, 2週間, 30分間):
/// the counter's reading with かん, for the counters that take it.
pub fn with_kan(reading: &'static str) -> Option<&'static str> {
    Some(match reading {
        "じ" => "じかん",
        "ふん" => "ふんかん",
        "ぷん" => "ぷんかん",
        "びょう" => "びょうかん",
        "にち" => "にちかん",
        "ねん" => "ねんかん",
        "しゅう" => "しゅうかん",
        "ふつか" => "ふつかかん",
        "みっか" => "みっかかん",
        "よっか" => "よっかかん",
        "いつか" => "いつかかん",
        "むいか" => "むいかかん",
        "なのか" => "なのかかん",
        "ようか" => "ようかかん",
        "ここのか" => "ここのかかん",
        "とおか" => "とおかかん",
        "じゅうよっか" => "じゅうよっかかん",
        "はつか" => "はつかかん",
        "にじゅうよっか" => "にじゅうよっかかん",
        _ => return None,
    })
}

/// A day of the week standing alone (a table header, 「（月）」).
pub fn weekday(c: char) -> Option<&'static str> {
    match c {
        '月' => Some("げつ"),
        '火' => Some("か"),
        '水' => Some("すい"),
        '木' => Some("もく"),
        '金' => Some("きん"),
        '土' => Some("ど"),
        '日' => Some("にち"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_change_with_the_number() {
        let r = |n| reading(n, '分', false).unwrap().reading;
        assert_eq!(
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 30, 0].map(r),
            [
                "ぷん", "ふん", "ぷん", "ぷん", "ふん", "ぷん", "ふん", "ぷん", "ふん", "ぷん",
                "ふん", "ぷん", "ふん"
            ]
        );
    }

    #[test]
    fn days_and_people_read_with_the_number() {
        assert_eq!(reading(2, '日', false), over_whole("ふつか"));
        assert_eq!(reading(1, '日', true), over_whole("ついたち"));
        assert_eq!(reading(1, '日', false), over_counter("にち"));
        assert_eq!(reading(14, '日', false), over_whole("じゅうよっか"));
        assert_eq!(reading(15, '日', false), over_counter("にち"));
        assert_eq!(reading(1, '人', false), over_whole("ひとり"));
        assert_eq!(reading(0, '人', false), over_counter("にん"));
        assert_eq!(reading(3, '階', false), over_counter("がい"));
        assert_eq!(reading(13, '階', false), over_counter("かい"));
        assert_eq!(reading(3, '本', false), None);
        assert_eq!(digits_value("１２"), Some(12));
        assert_eq!(digits_value(""), None);
    }
}
