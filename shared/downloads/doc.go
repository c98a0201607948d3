// Package downloads writes Lookit's researcher download formats (reference §9.3) row by row to
// an io.Writer: the response overview CSV, the all-responses JSON, the children overview CSV,
// frame data in long format, the demographic CSV and JSON, their data dictionaries, and the file
// names. It does no I/O of its own and needs no database: the caller fills a Response per row.
//
// Memory stays constant in the number of responses: a writer holds one response's values and a
// fixed output buffer, and Close flushes. The overview's header must name every flattened column
// of every response, so it takes two passes over the responses: KeySet (or SummaryKeys) gathers
// the extra keys, then SummaryCSV writes. The children overview expects a child's responses
// together (see ChildrenCSV). KeySet and FrameDictionary grow with the distinct keys of the
// protocol only.
//
// Write assembles a whole study-wide File (Lookit's downloads, the frame-data zip and the
// Psych-DS zip) from a Source of responses, reading it as many times as Passes says: the
// overview's header needs every response's keys before its first row, and a zip is written one
// entry at a time, so each file listing responses takes a pass. A response the writers reject
// is left out of the whole File and reported in the Result. The zips are written as they go,
// but the zip format puts its directory at the end, so archive/zip keeps each entry's header
// (a few hundred bytes) until then: the only memory that grows with the responses.
//
// Values are written as Lookit's Python code writes them, so files compare with Lookit's:
//
//   - CSV uses csv.QUOTE_NONNUMERIC: text quoted, numbers and True/False bare, None as "",
//     rows ending in "\r\n";
//   - JSON is json.dumps(…, indent="\t") with non-ASCII text escaped;
//   - exp_data, conditions and global_event_timings keep their member order, integers stay
//     exact, and floats print as Python's repr;
//   - list and dict values in the overview are flattened to dotted columns (flatten_dict).
//
// Where Lookit would raise on malformed data (a frame that is not a dict, conditions that are
// not a dict of dicts, an event that is not a dict) the data is written as it is instead, so a
// family's odd session does not stop a study's export. Text that is not JSON (or is nested more
// than 1000 deep, where Python's json.loads gives up too), or a child or snapshot UUID that does
// not parse, makes Write return a *ResponseError naming the response before anything of its row
// is written; the caller may skip it and go on. Any other error is the io.Writer's.
package downloads
