//! Substring search for the string methods (`find`, `contains`, `split`,
//! `replace`).
//!
//! Most needles are one character (`","`, `"\n"`, `" "`). std's `str`
//! pattern for a `&str` needle builds a two-way searcher (a critical
//! factorization of the needle) on every call and then steps through the
//! text with it, which costs more than the whole search on the short texts
//! programs split. So a one-byte (ASCII) needle is looked for with a plain
//! byte scan, another one-character needle as a `char` (core scans for its
//! last byte with its word-at-a-time `memchr`), and only longer needles as
//! a `&str`. All give std's non-overlapping, left-to-right occurrences; in
//! UTF-8 an occurrence of a whole character can only start and end at
//! character boundaries.

use std::str::MatchIndices;

/// The non-overlapping occurrences of a needle in a text, left to right,
/// as byte offsets: those of std's `str::match_indices` (an empty needle
/// matches at every character boundary).
pub enum Matches<'a> {
    /// An ASCII needle: the text's bytes from `at` on are still to search.
    Byte {
        text: &'a [u8],
        byte: u8,
        at: usize,
    },
    Char(MatchIndices<'a, char>),
    Str(MatchIndices<'a, &'a str>),
}

impl<'a> Matches<'a> {
    pub fn new(text: &'a str, needle: &'a str) -> Matches<'a> {
        match one_char(needle) {
            Some(c) if c.is_ascii() => Matches::Byte { text: text.as_bytes(), byte: c as u8, at: 0 },
            Some(c) => Matches::Char(text.match_indices(c)),
            None => Matches::Str(text.match_indices(needle)),
        }
    }
}

impl Iterator for Matches<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        match self {
            Matches::Byte { text, byte, at } => {
                // On short texts (most), a loop beats `memchr`'s set-up.
                let found = *at + text.get(*at..)?.iter().position(|b| b == byte)?;
                *at = found + 1;
                Some(found)
            }
            Matches::Char(m) => m.next().map(|(at, _)| at),
            Matches::Str(m) => m.next().map(|(at, _)| at),
        }
    }
}

/// The byte offset of the first occurrence of `needle` in `text` (0 for an
/// empty needle).
pub fn find(text: &str, needle: &str) -> Option<usize> {
    Matches::new(text, needle).next()
}

/// The character `needle` consists of, if it is exactly one.
fn one_char(needle: &str) -> Option<char> {
    let mut chars = needle.chars();
    let c = chars.next()?;
    chars.next().is_none().then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str, needle: &str) -> Vec<usize> {
        Matches::new(text, needle).collect()
    }

    #[test]
    fn short_needles_have_their_own_searchers() {
        assert!(matches!(Matches::new("a,b", ","), Matches::Byte { byte: b',', .. }));
        assert!(matches!(Matches::new("a\nb", "\n"), Matches::Byte { byte: b'\n', .. }));
        assert!(matches!(Matches::new("é", "é"), Matches::Char(_)));
        assert!(matches!(Matches::new("日本", "本"), Matches::Char(_)));
        assert!(matches!(Matches::new("a,,b", ",,"), Matches::Str(_)));
        assert!(matches!(Matches::new("e\u{301}", "e\u{301}"), Matches::Str(_)));
    }

    #[test]
    fn occurrences_agree_with_std() {
        let texts = [
            "",
            "a",
            "a,b,,c,",
            "x,",
            ",",
            &"ab,".repeat(100),
            ",,,",
            "aaaa",
            "héllo wörld",
            "日本、語、",
            "😀a😀b😀",
            "e\u{301}e",
        ];
        let needles = ["", ",", "a", "aa", ",,", "l", "ö", "、", "😀", "😀b", "\u{301}", "e\u{301}", "wörld", "zz"];
        for text in texts {
            for needle in needles {
                let expected: Vec<usize> = text.match_indices(needle).map(|(at, _)| at).collect();
                assert_eq!(all(text, needle), expected, "{needle:?} in {text:?}");
                assert_eq!(find(text, needle), text.find(needle), "{needle:?} in {text:?}");
            }
        }
    }

    #[test]
    fn occurrences_do_not_overlap() {
        assert_eq!(all("aaaa", "aa"), [0, 2]);
        assert_eq!(all("aaa", "aa"), [0]);
        assert_eq!(all("aaa", "a"), [0, 1, 2]);
        assert_eq!(all("x,y", ","), [1]);
        assert!(all("xyz", ",").is_empty());
    }

    #[test]
    fn an_empty_needle_matches_at_every_boundary() {
        assert_eq!(all("aé", ""), [0, 1, 3]);
        assert_eq!(all("", ""), [0]);
        assert_eq!(find("abc", ""), Some(0));
        assert_eq!(find("", ""), Some(0));
        assert_eq!(find("", "a"), None);
    }
}
