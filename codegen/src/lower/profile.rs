//! The profile against the API: every operation, role and schema it names must exist.

use crate::error::{Error, Result};
use crate::ir::names::camel;
use crate::ir::{BasePathIr, CapabilityIr, Operation, ProfileIr, RelaxedIr, RoleIr, TopicIr};
use crate::load::profile::{Operations, Profile};

use super::types::TypeSpace;

/// Resolves the profile and records each operation's roles.
pub fn lower(
    profile: &Profile,
    space: &TypeSpace<'_>,
    operations: &mut [Operation],
) -> Result<ProfileIr> {
    let file = &profile.file;
    let all: Vec<String> = operations.iter().map(|o| o.id.clone()).collect();
    let known = |id: &str| all.iter().any(|o| o == id);

    let mut base_paths = Vec::new();
    for (index, base) in profile.base_paths.iter().enumerate() {
        let listed = match &base.operations {
            Operations::All(_) => all.clone(),
            Operations::Listed(ids) => {
                for (j, id) in ids.iter().enumerate() {
                    if !known(id) {
                        return Err(Error::invalid(
                            file,
                            format!("/basePaths/{index}/operations/{j}"),
                            format!(
                                "unknown operationId {id:?}; the document has: {}",
                                all.join(", ")
                            ),
                        ));
                    }
                }
                ids.clone()
            }
        };
        if !base.path.starts_with('/') {
            return Err(Error::invalid(
                file,
                format!("/basePaths/{index}/path"),
                "a base path starts with `/`",
            ));
        }
        let mandatory = profile
            .document_mandatory
            .iter()
            .map(|(schema, declared)| {
                let here = base.mandatory.get(schema).unwrap_or(declared);
                (schema.clone(), here.clone())
            })
            .collect();
        base_paths.push(BasePathIr {
            path: base.path.trim_end_matches('/').to_owned(),
            description: base.description.clone(),
            operations: listed,
            mandatory,
        });
    }

    let roles: Vec<RoleIr> = profile
        .roles
        .iter()
        .map(|(name, description)| RoleIr {
            variant: camel(name),
            name: name.clone(),
            description: description.clone(),
        })
        .collect();

    let mut capabilities = Vec::new();
    for (index, capability) in profile.capabilities.iter().enumerate() {
        for (j, id) in capability.operations.iter().enumerate() {
            if !known(id) {
                return Err(Error::invalid(
                    file,
                    format!("/capabilities/{index}/operations/{j}"),
                    format!("unknown operationId {id:?}"),
                ));
            }
        }
        for (j, role) in capability.roles.iter().enumerate() {
            if !roles.iter().any(|r| &r.name == role) {
                return Err(Error::invalid(
                    file,
                    format!("/capabilities/{index}/roles/{j}"),
                    format!("unknown role {role:?}: declare it under `roles`"),
                ));
            }
        }
        for operation in operations
            .iter_mut()
            .filter(|o| capability.operations.contains(&o.id))
        {
            for role in &capability.roles {
                if !operation.roles.contains(role) {
                    operation.roles.push(role.clone());
                }
            }
        }
        capabilities.push(CapabilityIr {
            name: capability.name.clone(),
            requirement: capability.requirement.clone(),
            operations: capability.operations.clone(),
            roles: capability.roles.clone(),
        });
    }

    let mut topics = Vec::new();
    for (index, topic) in profile.topics.iter().enumerate() {
        let payload = space.rust_name(&topic.payload).ok_or_else(|| {
            Error::invalid(
                file,
                format!("/topics/{index}/payload"),
                format!(
                    "unknown schema {:?}: define it under `schemas` or in the document",
                    topic.payload
                ),
            )
        })?;
        topics.push(TopicIr {
            name: topic.name.clone(),
            variant: camel(&topic.name),
            description: topic.description.clone(),
            payload: payload.to_owned(),
            event_types: topic.event_types.clone(),
        });
    }
    let mut relaxed = Vec::new();
    for (schema, document) in &profile.document_mandatory {
        let rust_name = space
            .rust_name(schema)
            .expect("`load::profile::relax` checked that the schema exists");
        relaxed.push(RelaxedIr {
            schema: schema.clone(),
            rust_name: rust_name.to_owned(),
            document: document.clone(),
        });
    }
    Ok(ProfileIr {
        relaxed,
        name: profile.profile.clone(),
        title: profile.title.clone(),
        base_paths,
        roles,
        capabilities,
        topics,
    })
}
