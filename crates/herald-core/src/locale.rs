//! Locales: the shape of a language tag (BCP 47, as `de`, `de-AT`, `zh-Hant-TW`), and the
//! fallback chain a notification's language variants are chosen by (`de-AT` → `de` → the
//! message's default).

use crate::{Error, Result};

/// The longest tag, in characters (BCP 47's own recommendation for a buffer is 35).
pub const MAX_TAG_LEN: usize = 35;

/// A language tag: subtags of 1 to 8 ASCII letters or digits joined by `-` (or `_`, as
/// Android and Java write them), the first of 2 to 3 letters (or `und`).
pub fn tag(field: &str, tag: &str) -> Result<()> {
    let valid = !tag.is_empty()
        && tag.len() <= MAX_TAG_LEN
        && tag.split(['-', '_']).all(|sub| {
            (1..=8).contains(&sub.len()) && sub.bytes().all(|b| b.is_ascii_alphanumeric())
        })
        && tag.split(['-', '_']).next().is_some_and(|first| {
            (2..=3).contains(&first.len()) && first.bytes().all(|b| b.is_ascii_alphabetic())
        });
    if valid {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!(
                "not a language tag such as de or de-AT (letters and digits in subtags of 1 to 8, joined by -, at most {MAX_TAG_LEN} characters)"
            ),
        ))
    }
}

/// A tag as compared: lowercase, `_` written `-`.
pub fn normalize(tag: &str) -> String {
    tag.replace('_', "-").to_ascii_lowercase()
}

/// The tags to try for `tag`, most specific first: `de-AT-x` → `de-at-x`, `de-at`, `de`
/// (normalized). Empty for an empty tag.
pub fn fallbacks(tag: &str) -> Vec<String> {
    let normal = normalize(tag);
    let mut out = Vec::new();
    let mut rest = normal.as_str();
    while !rest.is_empty() {
        out.push(rest.to_owned());
        rest = rest.rsplit_once('-').map_or("", |(head, _)| head);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_are_judged_by_shape() {
        for good in [
            "de",
            "de-AT",
            "zh-Hant-TW",
            "en_US",
            "und",
            "es-419",
            "sr-Latn-RS",
        ] {
            assert!(tag("locale", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "d",
            "deutsch-AT",
            "de--AT",
            "de-",
            "1e",
            "de AT",
            "de-ÄT",
            "de-abcdefghi",
        ] {
            assert!(tag("locale", bad).is_err(), "{bad}");
        }
        assert!(tag("locale", &"a".repeat(40)).is_err());
    }

    #[test]
    fn fallbacks_drop_subtags_from_the_end() {
        assert_eq!(fallbacks("de-AT"), ["de-at", "de"]);
        assert_eq!(fallbacks("zh_Hant_TW"), ["zh-hant-tw", "zh-hant", "zh"]);
        assert_eq!(fallbacks("fr"), ["fr"]);
        assert!(fallbacks("").is_empty());
    }
}
