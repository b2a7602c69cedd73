//! HTTP Digest authentication (RFC 7616) for endpoints that ask for it: the challenge of a 401's
//! `WWW-Authenticate` is read (the strongest Digest challenge offered: SHA-256 before MD5,
//! `-sess` variants included, `qop=auth`), and the request is made again at once with its
//! `Authorization`. Pure functions; the one round trip is in [`crate::post`].

use ring::digest;

/// The hash a challenge names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_uppercase().as_str() {
            "MD5" => Self::Md5,
            "MD5-SESS" => Self::Md5Sess,
            "SHA-256" => Self::Sha256,
            "SHA-256-SESS" => Self::Sha256Sess,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Md5Sess => "MD5-sess",
            Self::Sha256 => "SHA-256",
            Self::Sha256Sess => "SHA-256-sess",
        }
    }

    fn hash(self, text: &str) -> String {
        match self {
            Self::Md5 | Self::Md5Sess => {
                use md5::Digest as _;
                herald_core::crypto::hex(&md5::Md5::digest(text.as_bytes()))
            }
            Self::Sha256 | Self::Sha256Sess => {
                herald_core::crypto::hex(digest::digest(&digest::SHA256, text.as_bytes()).as_ref())
            }
        }
    }

    fn session(self) -> bool {
        matches!(self, Self::Md5Sess | Self::Sha256Sess)
    }
}

/// A Digest challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: Algorithm,
    /// The server offers `qop=auth` (otherwise the RFC 2069 form is answered).
    pub qop_auth: bool,
}

/// One challenge of a header: its scheme and its `(name, value)` parameters, names lowercased.
type Parsed = (String, Vec<(String, String)>);

/// The challenges of a `WWW-Authenticate` value (RFC 9110 §11.6.1).
fn challenges(header: &str) -> Result<Vec<Parsed>, &'static str> {
    let mut out: Vec<Parsed> = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        rest = rest.trim_start_matches([',', ' ', '\t']);
        if rest.is_empty() {
            break;
        }
        let end = rest
            .find(|c: char| c == '=' || c == ',' || c.is_whitespace())
            .unwrap_or(rest.len());
        let token = &rest[..end];
        if token.is_empty() {
            return Err("an empty token");
        }
        let after = rest[end..].trim_start_matches([' ', '\t']);
        if let Some(value_part) = after.strip_prefix('=') {
            // name=value of the current challenge.
            let value_part = value_part.trim_start_matches([' ', '\t']);
            let (value, remaining) = if let Some(quoted) = value_part.strip_prefix('"') {
                let mut value = String::new();
                let mut chars = quoted.char_indices();
                let mut closed = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => value.push(chars.next().ok_or("an unfinished escape")?.1),
                        '"' => {
                            closed = Some(i + 1);
                            break;
                        }
                        c => value.push(c),
                    }
                }
                let closed = closed.ok_or("an unclosed quoted string")?;
                (value, &quoted[closed..])
            } else {
                let end = value_part
                    .find([',', ' ', '\t'])
                    .unwrap_or(value_part.len());
                (value_part[..end].to_owned(), &value_part[end..])
            };
            let (_, params) = out.last_mut().ok_or("a parameter before any scheme")?;
            params.push((token.to_ascii_lowercase(), value));
            rest = remaining;
        } else {
            out.push((token.to_ascii_lowercase(), Vec::new()));
            rest = after;
        }
    }
    Ok(out)
}

/// The strongest Digest challenge a `WWW-Authenticate` value offers.
pub fn challenge(header: &str) -> Result<Challenge, &'static str> {
    let mut best: Option<Challenge> = None;
    for (scheme, params) in challenges(header)? {
        if scheme != "digest" {
            continue;
        }
        let param = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let algorithm = match param("algorithm") {
            Some(name) => match Algorithm::parse(&name) {
                Some(algorithm) => algorithm,
                None => continue,
            },
            None => Algorithm::Md5,
        };
        let qop_auth = param("qop").is_some_and(|qop| {
            qop.split(',')
                .any(|q| q.trim().eq_ignore_ascii_case("auth"))
        });
        if param("qop").is_some() && !qop_auth {
            // Only auth-int offered: the body would have to be hashed too; not supported.
            continue;
        }
        let (Some(realm), Some(nonce)) = (param("realm"), param("nonce")) else {
            return Err("a Digest challenge without realm or nonce");
        };
        let candidate = Challenge {
            realm,
            nonce,
            opaque: param("opaque"),
            algorithm,
            qop_auth,
        };
        if best
            .as_ref()
            .is_none_or(|b| candidate.algorithm > b.algorithm)
        {
            best = Some(candidate);
        }
    }
    best.ok_or("no Digest challenge with a supported algorithm (MD5 or SHA-256, qop auth)")
}

/// Quotes a value for a header (backslash before `"` and `\`).
fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The `Authorization` value answering `challenge` for a request of `method` to `uri` (its path
/// and query), with the client nonce `cnonce`, as the `nc`-th request with this nonce.
pub fn authorization(
    challenge: &Challenge,
    (username, password): (&str, &str),
    (method, uri): (&str, &str),
    cnonce: &str,
    nc: u32,
) -> String {
    let h = |text: &str| challenge.algorithm.hash(text);
    let mut ha1 = h(&format!("{username}:{}:{password}", challenge.realm));
    if challenge.algorithm.session() {
        ha1 = h(&format!("{ha1}:{}:{cnonce}", challenge.nonce));
    }
    let ha2 = h(&format!("{method}:{uri}"));
    let nc = format!("{nc:08x}");
    let mut fields = vec![
        format!("username={}", quoted(username)),
        format!("realm={}", quoted(&challenge.realm)),
        format!("uri={}", quoted(uri)),
        format!("algorithm={}", challenge.algorithm.name()),
        format!("nonce={}", quoted(&challenge.nonce)),
    ];
    let response = if challenge.qop_auth {
        fields.push(format!("nc={nc}"));
        fields.push(format!("cnonce={}", quoted(cnonce)));
        fields.push("qop=auth".to_owned());
        h(&format!(
            "{ha1}:{}:{nc}:{cnonce}:auth:{ha2}",
            challenge.nonce
        ))
    } else {
        h(&format!("{ha1}:{}:{ha2}", challenge.nonce))
    };
    fields.push(format!("response={}", quoted(&response)));
    if let Some(opaque) = &challenge.opaque {
        fields.push(format!("opaque={}", quoted(opaque)));
    }
    format!("Digest {}", fields.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7616 §3.9.1: the same request answered with SHA-256 and with MD5.
    const RFC_CHALLENGES: &str = r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;

    #[test]
    fn the_rfc_7616_example_is_answered_as_the_rfc_says() {
        let sha = challenge(RFC_CHALLENGES).unwrap();
        assert_eq!(sha.algorithm, Algorithm::Sha256, "the strongest is chosen");
        assert!(sha.qop_auth);
        let answer = |challenge: &Challenge| {
            authorization(
                challenge,
                ("Mufasa", "Circle of Life"),
                ("GET", "/dir/index.html"),
                "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                1,
            )
        };
        let header = answer(&sha);
        assert!(
            header.contains(
                r#"response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1""#
            ),
            "{header}"
        );
        assert!(header.contains("nc=00000001") && header.contains("qop=auth"));
        let md5 = Challenge {
            algorithm: Algorithm::Md5,
            ..sha
        };
        assert!(
            answer(&md5).contains(r#"response="8ca523f5e9506fed4657c9700eebdbec""#),
            "{}",
            answer(&md5)
        );
    }

    #[test]
    fn other_schemes_and_unsupported_digests_are_passed_over() {
        let only = challenge(r#"Basic realm="x", Digest realm="r", nonce="n", algorithm=MD5-sess"#)
            .unwrap();
        assert_eq!(only.algorithm, Algorithm::Md5Sess);
        assert!(!only.qop_auth);
        assert!(challenge(r#"Basic realm="x""#).is_err());
        assert!(challenge(r#"Digest realm="r", nonce="n", algorithm=SHA-512-256"#).is_err());
        assert!(challenge(r#"Digest realm="r", nonce="n", qop="auth-int""#).is_err());
        assert!(challenge(r#"Digest realm="r""#).is_err());
        assert!(challenge(r#"Digest realm="unclosed"#).is_err());
        assert!(challenge(r#"realm="r""#).is_err());
        let escaped = challenge(r#"Digest realm="a \"b\"", nonce="n""#).unwrap();
        assert_eq!(escaped.realm, r#"a "b""#);
        assert!(
            authorization(&escaped, ("u", "p"), ("POST", "/"), "c", 1)
                .contains(r#"realm="a \"b\"""#)
        );
    }
}
