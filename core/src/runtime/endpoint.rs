//! Where the Runtime API is: `AWS_LAMBDA_RUNTIME_API` as `host:port` or as a URL with a base path.

use std::fmt;

use http::uri::{Authority, PathAndQuery, Uri};

use crate::error::Error;

/// The Runtime API's address and base path.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    authority: Authority,
    base_path: String,
}

impl Endpoint {
    /// Parses `host:port` (as Lambda sets it) or `http://host:port/base/path` (as cargo-lambda's
    /// emulator sets it).
    pub fn parse(value: &str) -> Result<Self, Error> {
        let value = value.trim();
        let invalid = |why: &str| {
            Error::config(format!(
                "AWS_LAMBDA_RUNTIME_API must be `host:port` or `http://host:port/path`, got {value:?}: {why}; \
                 Lambda and `lambda-emulator` set it for you: unset it or fix its value"
            ))
        };
        if value.is_empty() {
            return Err(invalid("it is empty"));
        }
        let with_scheme = if value.contains("://") {
            value.to_owned()
        } else {
            format!("http://{value}")
        };
        let uri: Uri = with_scheme
            .parse()
            .map_err(|_| invalid("not a valid address"))?;
        if uri.scheme_str() != Some("http") {
            return Err(invalid("only http is supported"));
        }
        let authority = uri.authority().cloned().ok_or_else(|| invalid("no host"))?;
        if authority.port_u16().is_none() {
            return Err(invalid("no port"));
        }
        let base_path = uri.path().trim_end_matches('/').to_owned();
        Ok(Self {
            authority,
            base_path,
        })
    }

    /// Reads `AWS_LAMBDA_RUNTIME_API` from the environment.
    pub fn from_env() -> Result<Self, Error> {
        match std::env::var("AWS_LAMBDA_RUNTIME_API") {
            Ok(value) => Self::parse(&value),
            Err(_) => Err(Error::config(
                "AWS_LAMBDA_RUNTIME_API is not set: this program is a Lambda function; run it on Lambda \
                 or under a local emulator (`lambda-emulator serve -- <this program>`)",
            )),
        }
    }

    /// `host:port`, to connect to.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The request target of a Runtime API path such as `/2018-06-01/runtime/invocation/next`,
    /// in origin form (`/base/2018-06-01/...`): the host goes in the `Host` header, as a plain
    /// HTTP/1.1 client sends it (an absolute-form target is meant for proxies).
    pub fn uri(&self, path: &str) -> Uri {
        let path_and_query: PathAndQuery = format!("{}{}", self.base_path, path)
            .parse()
            .unwrap_or_else(|_| PathAndQuery::from_static("/"));
        Uri::from(path_and_query)
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.authority, self.base_path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_lambda_and_cargo_lambda_forms() {
        let lambda = Endpoint::parse("127.0.0.1:9001").unwrap();
        assert_eq!(
            lambda
                .uri("/2018-06-01/runtime/invocation/next")
                .to_string(),
            "/2018-06-01/runtime/invocation/next"
        );
        let cargo_lambda = Endpoint::parse("http://127.0.0.1:9000/.rt/my-fn/").unwrap();
        assert_eq!(
            cargo_lambda
                .uri("/2018-06-01/runtime/invocation/next")
                .to_string(),
            "/.rt/my-fn/2018-06-01/runtime/invocation/next"
        );
        assert_eq!(cargo_lambda.authority().as_str(), "127.0.0.1:9000");
    }

    #[test]
    fn rejects_nonsense_with_a_clear_error() {
        for bad in ["", "localhost", "https://h:1", "h:notaport", "http://"] {
            let err = Endpoint::parse(bad).unwrap_err();
            assert!(err.is_config(), "{bad}");
            assert!(err.message().contains("AWS_LAMBDA_RUNTIME_API"));
        }
    }
}
