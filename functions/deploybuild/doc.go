// Package deploybuild holds the test that builds the module the way Cloud Run functions' Go
// buildpack does (a generated main package that blank-imports the root package and starts the
// functions framework) and drives every entry point through it. It has no code of its own.
package deploybuild
