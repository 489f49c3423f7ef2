// Package openapi embeds the OpenAPI (Swagger 2.0) document generated from
// the commercesync.v1 protos by protoc-gen-openapiv2.
package openapi

import _ "embed"

// Document is the generated OpenAPI document.
//
//go:embed commercesync.swagger.json
var Document []byte
