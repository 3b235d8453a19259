//! The public metadata APIs the real authentication service consults, served from the sandbox's
//! [`catalogue`](crate::catalogue) on the real paths with the real JSON shapes, so a vendor can
//! look up in the sandbox what it will look up in TT02. Both APIs are anonymous (no
//! `[Authorize]` on these actions): no token needed.
//!
//! - Resource Registry (Altinn/altinn-resource-registry@408d858a,
//!   `src/Altinn.ResourceRegistry/Controllers/ResourceController.cs`): `GET resource/{id}` and
//!   `GET resource/search`. JSON camelCase, nulls omitted (ResourceRegistryHost.cs:131).
//! - Access Management metadata (Altinn/altinn-authorization-tmp@f7ff53bd2,
//!   `src/apps/Altinn.AccessManagement/src/Altinn.AccessManagement.Api.Metadata/Controllers/PackagesController.cs`):
//!   `search`, `package/{id}`, `package/urn/{urn}`, `package/{id}/resources`. JSON camelCase,
//!   nulls written; `name`/`description` in the language of the first `Accept-Language` entry.

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::catalogue::{
    self, Area, Lang, PROVIDER_ALTINN3_ID, PROVIDER_TYPE_SERVICE_OWNER_ID, Package, Resource,
    ResourceType,
};
use crate::problem::{json_ok, model_binding_problem, trace_id};

/// `NotFound()` in an `[ApiController]`: ASP.NET's client-error mapping writes an RFC 9110
/// ProblemDetails (both controllers are `[ApiController]`; spec §5e).
fn not_found() -> Response {
    let body = json!({
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        "title": "Not Found",
        "status": 404,
        "traceId": trace_id(),
    });
    let mut resp = (StatusCode::NOT_FOUND, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/problem+json; charset=utf-8"),
    );
    resp
}

/// A C# `double` as System.Text.Json writes it: `150`, not `150.0`.
fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// `NoContent()`: 204, no body.
fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// Query parameters the way ASP.NET binds them: names case-insensitive, an empty value is
/// null (`ConvertEmptyStringToNull`), the first of repeated keys wins for a scalar.
fn query_param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// A Guid route value; an unparsable one fails model binding: the automatic 400
/// (`[ApiController]`, parameter `Guid id`).
fn route_guid(name: &str, raw: &str) -> Result<Uuid, Response> {
    Uuid::parse_str(raw)
        .map_err(|_| model_binding_problem(name, &format!("The value '{raw}' is not valid.")))
}

// ---------------------------------------------------------------------------------------------
// Resource Registry
// ---------------------------------------------------------------------------------------------

/// mirrors: ResourceController.Get (:84-111) — 200 ServiceResource, else `NotFound()`.
/// (For an unregistered `app_{org}_{app}` the real one asks app storage; the sandbox has none.)
pub async fn resource_get(Path(id): Path<String>) -> Response {
    match catalogue::resource(&id) {
        Some(r) => json_ok(StatusCode::OK, r.to_json()),
        None => not_found(),
    }
}

/// mirrors: ResourceController.Search (:527-532) -> ResourceRegistryService.GetSearchResults
/// (apps excluded, ResourceRegistryService.cs:103-107) -> ServiceResourceHelper
/// .GetSearchResultsFromResourceList (:31-50, matchers :288-364): every given criterion must
/// match, all case-insensitive: `id` substring of the identifier, `resourceType` the exact type,
/// `orgCode` / `organizationId` equal to the owner's, `description` a substring of any language,
/// `keyword` a substring of a keyword (no keywords: no match), `reference` a substring of a
/// resource reference. `title` is bound but never used. Answer: a plain JSON array (200, also
/// when empty).
pub async fn resource_search(Query(query): Query<Vec<(String, String)>>) -> Response {
    let wanted_type = match query_param(&query, "resourceType") {
        None => None,
        Some(t) => match ResourceType::parse(t) {
            Some(t) => Some(t),
            None => {
                return model_binding_problem(
                    "ResourceType",
                    &format!("The value '{t}' is not valid for ResourceType."),
                );
            }
        },
    };
    let contains = |hay: &str, needle: &str| hay.to_lowercase().contains(&needle.to_lowercase());
    let lang_values = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_object)
            .map(|o| {
                o.values()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let hits: Vec<&Value> = catalogue::resources()
        .iter()
        .filter(|r| !r.is_app())
        .filter(|r| query_param(&query, "id").is_none_or(|id| contains(&r.id, id)))
        .filter(|r| wanted_type.is_none_or(|t| r.resource_type == t))
        .filter(|r| {
            query_param(&query, "orgCode").is_none_or(|c| r.owner.org_code.eq_ignore_ascii_case(c))
        })
        .filter(|r| {
            query_param(&query, "organizationId")
                .is_none_or(|o| r.owner.org_no.eq_ignore_ascii_case(o))
        })
        .filter(|r| {
            query_param(&query, "description").is_none_or(|d| {
                lang_values(r.to_json().get("description"))
                    .iter()
                    .any(|v| contains(v, d))
            })
        })
        .filter(|r| {
            query_param(&query, "keyword").is_none_or(|k| {
                r.to_json()
                    .get("keywords")
                    .and_then(Value::as_array)
                    .is_some_and(|ws| {
                        ws.iter()
                            .filter_map(|w| w.get("word").and_then(Value::as_str))
                            .any(|w| contains(w, k))
                    })
            })
        })
        .filter(|r| {
            query_param(&query, "reference").is_none_or(|x| {
                r.to_json()
                    .get("resourceReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| {
                        refs.iter()
                            .filter_map(|x| x.get("reference").and_then(Value::as_str))
                            .any(|v| contains(v, x))
                    })
            })
        })
        .map(Resource::to_json)
        .collect();
    json_ok(StatusCode::OK, &hits)
}

// ---------------------------------------------------------------------------------------------
// Access Management: access packages
// ---------------------------------------------------------------------------------------------

fn lang_of(headers: &HeaderMap) -> Lang {
    Lang::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// mirrors: DtoMapper.Convert(Area) (DtoMapperRolePackage.cs:119-128): `packages` an empty
/// list, `group` not set (null).
fn area_dto(a: &Area, lang: Lang) -> Value {
    json!({
        "id": a.id,
        "name": a.name.get(lang),
        "urn": a.urn,
        "description": a.description.get(lang),
        "iconUrl": a.icon_url,
        "packages": [],
        "group": null,
    })
}

/// mirrors: DtoMapper.Convert(Resource) (DtoMapperRolePackage.cs:194-205) with its provider and
/// type. AM's own row ids for resources and providers are in no source we have: they are
/// stable made-up ids ([`catalogue::derived_id`]); `refId` is the registry identifier.
fn resource_dto(r: &Resource, lang: Lang) -> Value {
    let provider_id = catalogue::derived_id("provider", &r.owner.org_no);
    let type_id = catalogue::derived_id("resourcetype", r.resource_type.as_str());
    json!({
        "id": r.am_id,
        "providerId": provider_id,
        "typeId": type_id,
        "name": r.title.get(lang),
        "description": r
            .to_json()
            .get("description")
            .map(|d| catalogue_text(d, lang))
            .unwrap_or_default(),
        "refId": r.id,
        "provider": {
            "id": provider_id,
            "name": r.owner.name.get(lang),
            "refId": r.owner.org_no,
            "logoUrl": null,
            "code": r.owner.org_code,
            "typeId": PROVIDER_TYPE_SERVICE_OWNER_ID,
            "type": null,
        },
        "type": { "id": type_id, "name": r.resource_type.as_str() },
    })
}

fn catalogue_text(v: &Value, lang: Lang) -> String {
    let key = match lang {
        Lang::Nb => "nb",
        Lang::Nn => "nn",
        Lang::En => "en",
    };
    v.get(key)
        .or_else(|| v.get("nb"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// mirrors: DtoMapper.Convert(Package, Area, resources) (DtoMapperRolePackage.cs:24-36):
/// PackageDto `{id, name, urn, description, isDelegable, isAssignable, isResourcePolicyAvailable,
/// area, type, resources}`; `type` is the entity type (TypeDto, its provider not loaded: null).
fn package_dto(p: &Package, lang: Lang) -> Value {
    json!({
        "id": p.id,
        "name": p.name.get(lang),
        "urn": p.urn,
        "description": p.description.get(lang),
        "isDelegable": p.is_delegable,
        "isAssignable": p.is_assignable,
        "isResourcePolicyAvailable": p.is_resource_policy_available,
        "area": area_dto(p.area(), lang),
        "type": {
            "id": p.entity_type.id(),
            "providerId": PROVIDER_ALTINN3_ID,
            "name": p.entity_type.name(),
            "provider": null,
        },
        "resources": p.resources().iter().map(|r| resource_dto(r, lang)).collect::<Vec<_>>(),
    })
}

/// One scoring rule of PackageService.SimpleSearch (PackageService.cs:44-51).
struct Rule {
    field: &'static str,
    prefix: bool,
    points: f64,
}

const RULES: [Rule; 5] = [
    Rule {
        field: "name.prefix",
        prefix: true,
        points: 100.0,
    },
    Rule {
        field: "name",
        prefix: false,
        points: 50.0,
    },
    Rule {
        field: "description",
        prefix: false,
        points: 10.0,
    },
    Rule {
        field: "area.name.prefix",
        prefix: true,
        points: 25.0,
    },
    Rule {
        field: "area.description",
        prefix: false,
        points: 5.0,
    },
];

fn rule_value<'a>(
    rule: &Rule,
    name: &'a str,
    desc: &'a str,
    area_name: &'a str,
    area_desc: &'a str,
) -> &'a str {
    match rule.field {
        "name.prefix" | "name" => name,
        "description" => desc,
        "area.name.prefix" => area_name,
        _ => area_desc,
    }
}

/// mirrors: PackagesController.Search (:42-79) with the default `simpleSearch=true`:
/// PackageService.SimpleSearch (PackageService.cs:115-150). A blank or missing `term` lists every
/// package with score 0; otherwise the term is split on spaces, each package scored by the five
/// rules (case-insensitive prefix/substring matches; with several tokens the whole phrase also
/// scores double per rule), packages with score 0 dropped, `strict=true` keeps only those where
/// every token occurs in some matched field, ordered by score (stable). `typeName` filters by
/// entity type (`organization`/`organisasjon`/`person`; other names: a 500 problem as
/// `Problem(...)`). Nothing found: 204. `resourceProviderCode`/`searchInResources` apply to the
/// seeded package-resource links.
pub async fn package_search(
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let lang = lang_of(&headers);
    let bool_param = |name: &str, default: bool| {
        query_param(&query, name)
            .map(|v| v.eq_ignore_ascii_case("true"))
            .unwrap_or(default)
    };
    let strict = bool_param("strict", false);
    let in_resources = bool_param("searchInResources", false);
    let type_filter = match query_param(&query, "typeName") {
        None => None,
        Some(t) => match t.to_lowercase().as_str() {
            "organization" | "organisasjon" => Some(catalogue::EntityType::Organization),
            "person" => Some(catalogue::EntityType::Person),
            _ => {
                // `return Problem($"Type '{typeName}' not found. Try organization, organisasjon or person");`
                let body = json!({
                    "type": "https://tools.ietf.org/html/rfc9110#section-15.6.1",
                    "title": "An error occurred while processing your request.",
                    "status": 500,
                    "detail": format!("Type '{t}' not found. Try organization, organisasjon or person"),
                    "traceId": trace_id(),
                });
                let mut resp =
                    (StatusCode::INTERNAL_SERVER_ERROR, body.to_string()).into_response();
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("application/problem+json; charset=utf-8"),
                );
                return resp;
            }
        },
    };
    let providers: Vec<String> = query
        .iter()
        .filter(|(k, v)| k.eq_ignore_ascii_case("resourceProviderCode") && !v.is_empty())
        .map(|(_, v)| v.to_lowercase())
        .collect();
    // GetSearchData: the type filter, then (with provider codes) only packages with a resource
    // of one of those providers (code contains the given one, case-insensitive).
    let data: Vec<&Package> = catalogue::packages()
        .iter()
        .filter(|p| type_filter.is_none_or(|t| p.entity_type == t))
        .filter(|p| {
            providers.is_empty()
                || p.resources().iter().any(|r| {
                    providers
                        .iter()
                        .any(|c| r.owner.org_code.to_lowercase().contains(c.as_str()))
                })
        })
        .collect();
    let term = query_param(&query, "term").unwrap_or("");
    if term.trim().is_empty() {
        if data.is_empty() {
            return no_content();
        }
        let all: Vec<Value> = data
            .iter()
            .map(|p| json!({"object": package_dto(p, lang), "score": 0, "fields": []}))
            .collect();
        return json_ok(StatusCode::OK, &all);
    }
    let tokens: Vec<String> = term
        .split(' ')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut scored: Vec<(f64, Value)> = Vec::new();
    for p in data {
        let name = p.name.get(lang).to_string();
        let desc = p.description.get(lang).to_string();
        let area = p.area();
        let (area_name, area_desc) = (
            area.name.get(lang).to_string(),
            area.description.get(lang).to_string(),
        );
        let matches = |rule: &Rule, value: &str, t: &str| {
            let v = value.to_lowercase();
            if rule.prefix {
                v.starts_with(t)
            } else {
                v.contains(t)
            }
        };
        let mut fields: Vec<(String, String, f64)> = Vec::new();
        if tokens.len() > 1 {
            let phrase = tokens.join(" ");
            for rule in &RULES {
                let value = rule_value(rule, &name, &desc, &area_name, &area_desc);
                if matches(rule, value, &phrase) {
                    fields.push((
                        format!("{}.phrase", rule.field),
                        value.to_string(),
                        rule.points * 2.0,
                    ));
                }
            }
        }
        for rule in &RULES {
            let value = rule_value(rule, &name, &desc, &area_name, &area_desc);
            for t in &tokens {
                if matches(rule, value, t) {
                    fields.push((rule.field.to_string(), value.to_string(), rule.points));
                }
            }
        }
        if in_resources {
            for r in p.resources() {
                let rname = r.title.get(lang).to_string();
                for t in &tokens {
                    if rname.to_lowercase().contains(t.as_str()) {
                        fields.push(("resources.name".into(), rname.clone(), 2.0));
                    }
                }
            }
        }
        let score: f64 = fields.iter().map(|f| f.2).sum();
        if score <= 0.0 {
            continue;
        }
        if strict
            && tokens.len() > 1
            && !tokens.iter().all(|t| {
                fields
                    .iter()
                    .any(|f| f.1.to_lowercase().contains(t.as_str()))
            })
        {
            continue;
        }
        // SearchField (Utils/Models/SearchObject.cs): {field, value, score, words}; the simple
        // search sets no words (an empty list).
        let fields: Vec<Value> = fields
            .into_iter()
            .map(|(field, value, score)| json!({"field": field, "value": value, "score": number(score), "words": []}))
            .collect();
        scored.push((
            score,
            json!({"object": package_dto(p, lang), "score": number(score), "fields": fields}),
        ));
    }
    if scored.is_empty() {
        return no_content();
    }
    // OrderByDescending is a stable sort.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    json_ok(
        StatusCode::OK,
        &scored.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
    )
}

/// mirrors: PackagesController.GetPackage (:246-263): 200 PackageDto or `NotFound()`; a
/// non-Guid id fails model binding (400).
pub async fn package_get(headers: HeaderMap, Path(id): Path<String>) -> Response {
    let id = match route_guid("id", &id) {
        Ok(id) => id,
        Err(e) => return e,
    };
    match catalogue::package_by_id(id) {
        Some(p) => json_ok(StatusCode::OK, &package_dto(p, lang_of(&headers))),
        None => not_found(),
    }
}

/// mirrors: PackagesController.GetPackageByUrn (:270-287) -> PackageService.GetPackageByUrnValue
/// (:255-266; the suffix rule of [`catalogue::package`]): 200 PackageDto or `NotFound()`.
pub async fn package_by_urn(headers: HeaderMap, Path(urn): Path<String>) -> Response {
    match catalogue::package(&urn) {
        Some(p) => json_ok(StatusCode::OK, &package_dto(p, lang_of(&headers))),
        None => not_found(),
    }
}

/// mirrors: PackagesController.GetPackageResources (:294-319): 200 `[ResourceDto]` ordered by
/// name; 204 when the package has none; `NotFound()` for an unknown package.
pub async fn package_resources(headers: HeaderMap, Path(id): Path<String>) -> Response {
    let id = match route_guid("id", &id) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let Some(p) = catalogue::package_by_id(id) else {
        return not_found();
    };
    let lang = lang_of(&headers);
    let mut list: Vec<Value> = p
        .resources()
        .iter()
        .map(|r| resource_dto(r, lang))
        .collect();
    if list.is_empty() {
        return no_content();
    }
    list.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    json_ok(StatusCode::OK, &list)
}
