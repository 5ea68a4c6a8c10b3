//! Small helpers for the sentences siptriage writes.

/// The first `show` items joined with commas, and how many more there are:
/// `a, b, c and 2 more`.
pub fn some_of<S: AsRef<str>>(items: &[S], show: usize) -> String {
    let shown: Vec<&str> = items.iter().take(show).map(AsRef::as_ref).collect();
    let more = items.len() - shown.len();
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_say_how_many_more() {
        assert_eq!(super::some_of(&["a", "b", "c"], 2), "a, b and 1 more");
        assert_eq!(super::some_of(&["a"], 2), "a");
        assert_eq!(super::some_of::<&str>(&[], 2), "");
    }
}
