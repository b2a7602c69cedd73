//! The OpenAPI 3.0 document of Herald's HTTP surface, served at `GET /v1/openapi.json`: the
//! REST routes made from the same table the server serves (`rest_api::ROUTES`), each message's
//! schema made from the protobuf descriptors (the proto3 JSON mapping with the `.proto` field
//! names, as the routes read and write it), and the app and Wazo endpoints, whose bodies are
//! their own.

use std::collections::{BTreeMap, BTreeSet};

use herald_proto::FILE_DESCRIPTOR_SET;
use prost::Message as _;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorSet};
use serde_json::{Map, Value, json};

use crate::rest_api::ROUTES;

/// The public API's package.
const PACKAGE: &str = "herald.v1";

/// Every message and enum of the descriptors, by full name (`herald.v1.SendRequest`).
struct Descriptors {
    messages: BTreeMap<String, DescriptorProto>,
    enums: BTreeMap<String, Vec<String>>,
}

impl Descriptors {
    fn load() -> Self {
        let set = FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).expect("the built-in descriptors");
        let mut out = Self {
            messages: BTreeMap::new(),
            enums: BTreeMap::new(),
        };
        for file in set.file {
            let package = file.package().to_owned();
            for e in &file.enum_type {
                out.add_enum(&package, e);
            }
            for m in file.message_type {
                out.add_message(&package, m);
            }
        }
        out
    }

    fn add_enum(&mut self, scope: &str, e: &prost_types::EnumDescriptorProto) {
        let names = e.value.iter().map(|v| v.name().to_owned()).collect();
        self.enums.insert(format!("{scope}.{}", e.name()), names);
    }

    fn add_message(&mut self, scope: &str, m: DescriptorProto) {
        let name = format!("{scope}.{}", m.name());
        for e in &m.enum_type {
            self.add_enum(&name, e);
        }
        for nested in m.nested_type.clone() {
            self.add_message(&name, nested);
        }
        self.messages.insert(name, m);
    }

    /// A field's schema; a message it names is added to `wanted`.
    fn field(&self, f: &FieldDescriptorProto, wanted: &mut BTreeSet<String>) -> Value {
        let type_name = f.type_name().trim_start_matches('.');
        let single = match f.r#type() {
            Type::String => json!({"type": "string"}),
            Type::Bool => json!({"type": "boolean"}),
            Type::Int32 | Type::Sint32 | Type::Sfixed32 => {
                json!({"type": "integer", "format": "int32"})
            }
            Type::Uint32 | Type::Fixed32 => {
                json!({"type": "integer", "minimum": 0, "maximum": u32::MAX})
            }
            // The proto3 JSON mapping writes 64-bit integers as strings and reads either.
            Type::Int64 | Type::Sint64 | Type::Sfixed64 => json!({"oneOf": [
                {"type": "integer", "format": "int64"},
                {"type": "string", "pattern": "^-?[0-9]{1,18}$"},
            ]}),
            Type::Uint64 | Type::Fixed64 => json!({"oneOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": "^[0-9]{1,19}$"},
            ]}),
            Type::Double | Type::Float => json!({"type": "number"}),
            Type::Bytes => json!({"type": "string", "format": "byte"}),
            Type::Enum => json!({
                "type": "string",
                "enum": self.enums.get(type_name).cloned().unwrap_or_default(),
            }),
            Type::Message | Type::Group => {
                let entry = self.messages.get(type_name);
                if let Some(entry) =
                    entry.filter(|m| m.options.as_ref().is_some_and(|o| o.map_entry()))
                {
                    let value = entry
                        .field
                        .iter()
                        .find(|f| f.name() == "value")
                        .expect("a map entry has a value");
                    return json!({
                        "type": "object",
                        "additionalProperties": self.field(value, wanted),
                    });
                }
                wanted.insert(type_name.to_owned());
                json!({"$ref": format!("#/components/schemas/{type_name}")})
            }
        };
        if f.label() == Label::Repeated {
            json!({"type": "array", "items": single})
        } else {
            single
        }
    }

    /// A message's schema: an object of its fields and no others, none required (proto3 leaves
    /// defaults out).
    fn message(&self, name: &str, wanted: &mut BTreeSet<String>) -> Value {
        let m = &self.messages[name];
        let properties: Map<String, Value> = m
            .field
            .iter()
            .map(|f| (f.name().to_owned(), self.field(f, wanted)))
            .collect();
        json!({"type": "object", "properties": properties, "additionalProperties": false})
    }
}

fn content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The parameters of a path (`{message_id}`).
fn path_parameters(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_owned)
        .collect()
}

/// The document.
pub(crate) fn document() -> Value {
    let d = Descriptors::load();
    let mut wanted = BTreeSet::new();
    let mut paths: Map<String, Value> = Map::new();
    for route in ROUTES {
        let request = format!("{PACKAGE}.{}", route.request);
        let response = format!("{PACKAGE}.{}", route.response);
        wanted.insert(response.clone());
        let in_path = path_parameters(route.path);
        let mut parameters: Vec<Value> = in_path
            .iter()
            .map(|name| {
                json!({"name": name, "in": "path", "required": true,
                       "schema": {"type": "string", "minLength": 1}})
            })
            .collect();
        let mut operation = json!({
            "operationId": route.operation,
            "summary": route.summary,
            "description": format!("The gRPC call {}.", route.operation),
            "responses": {
                "200": {"description": "The call's answer", "content": content(schema_ref(&response))},
                "default": {"$ref": "#/components/responses/Error"},
            },
        });
        if route.method == "post" {
            wanted.insert(request.clone());
            operation["requestBody"] =
                json!({"required": true, "content": content(schema_ref(&request))});
        } else {
            for f in &d.messages[&request].field {
                if in_path.iter().any(|p| p == f.name()) || f.r#type() == Type::Message {
                    continue;
                }
                let mut ignored = BTreeSet::new();
                parameters.push(json!({
                    "name": f.name(), "in": "query", "required": false,
                    "schema": d.field(f, &mut ignored),
                }));
            }
        }
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        paths
            .entry(route.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("a path item")
            .insert(route.method.to_owned(), operation);
    }
    let mut schemas: Map<String, Value> = Map::new();
    while let Some(name) = wanted.iter().find(|n| !schemas.contains_key(*n)).cloned() {
        let schema = d.message(&name, &mut wanted);
        schemas.insert(name, schema);
    }
    for (path, item) in own_endpoints() {
        paths.insert(path, item);
    }
    for (name, schema) in own_schemas() {
        schemas.insert(name, schema);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Herald",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Herald's HTTP API beside gRPC: each /v1 route is the gRPC call of the \
                same name, its JSON the proto3 JSON mapping with the .proto field names (64-bit \
                integers as strings, enums by name, default values left out). Authenticate with \
                `Authorization: Bearer <API key>`.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A tenant's API key"},
                "wazoToken": {"type": "apiKey", "in": "header", "name": "X-Auth-Token",
                              "description": "A tenant's server API key, as Wazo clients send their token"},
            },
            "responses": {
                "Error": {"description": "What went wrong", "content": content(schema_ref("Error"))},
                "WazoError": {"description": "What went wrong, as wazo-webhookd answers it",
                              "content": content(schema_ref("WazoError"))},
            },
            "schemas": schemas,
        },
    })
}

/// The app endpoints (`rest`) and Wazo's (`wazo`), whose bodies are their own.
fn own_endpoints() -> Vec<(String, Value)> {
    let app = |operation: &str, summary: &str, body: &str, mut responses: Value| {
        responses["default"] = json!({"$ref": "#/components/responses/Error"});
        json!({"post": {
            "operationId": operation,
            "summary": summary,
            "requestBody": {"required": true, "content": content(schema_ref(body))},
            "responses": responses,
        }})
    };
    let registered =
        json!({"description": "The device", "content": content(schema_ref("AppDevice"))});
    let mut report = app(
        "AppReportDeliveryEvent",
        "An app reports what its device did with a delivery (app client key or server key)",
        "AppDeliveryEvent",
        json!({"204": {"description": "Recorded"}}),
    );
    report["post"]["parameters"] = json!([{"name": "delivery_id", "in": "path", "required": true,
                                          "schema": {"type": "string", "minLength": 1}}]);
    let wazo = json!({"post": {
        "operationId": "WazoMobileNotification",
        "summary": "Wazo's POST /1.0/mobile/notifications: a push to the user's mobile sessions",
        "security": [{"wazoToken": []}],
        "parameters": [{"name": "Wazo-Tenant", "in": "header", "required": false,
                        "schema": {"type": "string"}, "description": "The token's tenant"}],
        "requestBody": {"required": true, "content": content(schema_ref("WazoNotification"))},
        "responses": {
            "204": {"description": "Accepted"},
            "default": {"$ref": "#/components/responses/WazoError"},
        },
    }});
    let mut wazo_prefixed = wazo.clone();
    wazo_prefixed["post"]["operationId"] = "WazoMobileNotificationPrefixed".into();
    vec![
        (
            "/v1/app/devices".into(),
            app(
                "AppRegisterDevice",
                "An app registers its device (app client key or server key)",
                "AppDeviceRegistration",
                json!({"200": registered.clone(), "201": registered}),
            ),
        ),
        ("/v1/app/deliveries/{delivery_id}/events".into(), report),
        ("/1.0/mobile/notifications".into(), wazo),
        (
            "/api/wazo-webhookd/1.0/mobile/notifications".into(),
            wazo_prefixed,
        ),
    ]
}

fn own_schemas() -> Vec<(String, Value)> {
    let text = json!({"type": "string"});
    vec![
        (
            "Error".into(),
            json!({"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": text, "message": text, "field": text},
            }}}),
        ),
        (
            "WazoError".into(),
            json!({"type": "object", "required": ["message", "error_id", "details", "timestamp"],
                   "properties": {"message": text, "error_id": text,
                                  "details": {"type": "object"}, "timestamp": {"type": "number"}}}),
        ),
        (
            "WazoNotification".into(),
            json!({"type": "object", "required": ["notification_type", "user_uuid", "title", "body"],
            "properties": {
                "notification_type": {"type": "string", "minLength": 1, "maxLength": 100,
                                      "pattern": "^[a-zA-Z0-9_]+$"},
                "user_uuid": {"type": "string", "minLength": 36, "maxLength": 36},
                "title": {"type": "string", "maxLength": 128},
                "body": {"type": "string", "maxLength": 250},
                "extra": {"type": "object"},
            }}),
        ),
        (
            "AppDeviceRegistration".into(),
            json!({"type": "object", "required": ["platform"], "additionalProperties": false,
            "properties": {
                "user_id": text, "customer_id": text,
                "platform": {"type": "string", "enum": ["android", "ios", "macos", "huawei", "web"]},
                "push_token": text,
                "browser": {"type": "string", "enum": ["chrome", "firefox", "safari", "edge", "opera"]},
                "web_subscription": {"type": "object", "properties": {
                    "endpoint": text,
                    "keys": {"type": "object", "properties": {"p256dh": text, "auth": text}},
                }},
                "sandbox": {"type": "boolean"}, "app_version": text, "locale": text,
            }}),
        ),
        (
            "AppDevice".into(),
            json!({"type": "object", "required": ["device_id", "created", "state"],
                   "properties": {"device_id": text, "created": {"type": "boolean"}, "state": text}}),
        ),
        (
            "AppDeliveryEvent".into(),
            json!({"type": "object", "required": ["kind"], "additionalProperties": false,
            "properties": {
                "kind": {"type": "string", "enum": ["delivered", "read", "clicked", "button"]},
                "button": text,
                "at_ms": {"type": "integer", "format": "int64"},
            }}),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_and_every_schema_it_names_is_described() {
        let doc = document();
        for route in ROUTES {
            let op = &doc["paths"][route.path][route.method];
            assert_eq!(op["operationId"], route.operation, "{}", route.path);
        }
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for part in text.split("#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap();
            assert!(
                schemas.contains_key(name),
                "{name} is referenced, not described"
            );
        }
        // Maps are objects of their values; 64-bit integers strings or integers; enums names.
        let send = &schemas["herald.v1.Notification"]["properties"];
        assert_eq!(send["data"]["additionalProperties"]["type"], "string");
        let device = &schemas["herald.v1.Device"]["properties"];
        assert!(device["created_at_ms"]["oneOf"].is_array());
        assert!(
            device["platform"]["enum"]
                .as_array()
                .unwrap()
                .contains(&json!("PLATFORM_ANDROID"))
        );
        // A GET takes its request's fields from the query, its path parameter from the path.
        let list = doc["paths"]["/v1/devices"]["get"]["parameters"]
            .as_array()
            .unwrap();
        assert!(
            list.iter()
                .any(|p| p["name"] == "user_id" && p["in"] == "query")
        );
        let get = doc["paths"]["/v1/devices/{device_id}"]["get"]["parameters"]
            .as_array()
            .unwrap();
        assert_eq!(get.len(), 1);
        assert_eq!(get[0]["in"], "path");
    }
}
