//! Lowering: `openapiv3` (+ profile) → [`crate::ir::Api`]. The only module that knows
//! both the input model and the IR.

mod cycles;
mod operations;
mod params;
mod profile;
mod schema_view;
mod types;

use crate::error::Result;
use crate::ir::Api;
use crate::load::Loaded;

/// Builds the IR of a loaded document.
pub fn lower(loaded: &Loaded) -> Result<Api> {
    let openapi = &loaded.openapi;
    let mut space = types::TypeSpace::new(&loaded.file, openapi.components.as_ref());
    space.build_components()?;
    let (mut operations, traits) = operations::lower(openapi, &mut space, &loaded.file)?;
    let profile = match &loaded.profile {
        Some(profile) => Some(profile::lower(profile, &space, &mut operations)?),
        None => None,
    };
    let warnings = std::mem::take(&mut space.warnings);
    let mut types = space.types;
    cycles::box_cycles(&mut types);

    let base_path = openapi
        .servers
        .first()
        .map(|s| server_path(&s.url))
        .unwrap_or_default();
    Ok(Api {
        title: openapi.info.title.clone(),
        version: openapi.info.version.clone(),
        description: openapi.info.description.clone(),
        base_path,
        types,
        operations,
        traits,
        profile,
        warnings,
    })
}

/// The path part of a server URL (`https://{host}/tmf-api/x/v4/` → `/tmf-api/x/v4`).
fn server_path(url: &str) -> String {
    let without_scheme = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    let path = if url.contains("://") {
        without_scheme
            .find('/')
            .map(|i| &without_scheme[i..])
            .unwrap_or("")
    } else {
        without_scheme
    };
    path.trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn server_paths() {
        assert_eq!(
            super::server_path("/tmf-api/event/v4/"),
            "/tmf-api/event/v4"
        );
        assert_eq!(
            super::server_path("https://{serverRoot}/psi-api/x/v2/"),
            "/psi-api/x/v2"
        );
        assert_eq!(super::server_path("https://example.com"), "");
    }
}
