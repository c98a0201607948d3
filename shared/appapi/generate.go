// Package appapi is generated from openapi.yaml, the app API's single contract: request and
// response types, the strict server interface shared/httpapi implements, and the routes.
package appapi

//go:generate go tool oapi-codegen -config oapi-codegen.yaml openapi.yaml
