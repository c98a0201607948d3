// Package protocol checks a frameplayer study's protocol when a researcher saves or submits it.
//
// A study run by the Ember experiment runner (ember-lookit-frameplayer) carries its protocol in
// three fields: structure, a JSON object whose "frames" maps frame ids to frame objects and whose
// "sequence" lists the frame ids to show; generator, the JavaScript source of
// function generateProtocol(child, pastSessions) {...}; and use_generator. The runner reads all
// three from GET /api/v1/studies/<uuid>/ and parses the protocol in the participant's browser
// (shared/reference/frameplayer-contract.md §1.4), so a broken protocol only shows itself when a
// family starts the study. Validate catches what certainly breaks, at save time, and names the
// place as an RFC 6901 JSON pointer into the request ("/structure/sequence/3",
// "/structure/frames/intro", "/generator"). Callers with a JSON:API body prefix the pointer, for
// example "/data/attributes" + err.Pointer.
//
// # What is checked, and why
//
// Storage (the structure is a jsonb column, the generator a text column): the structure is at
// most MaxStructureBytes and MaxDepth levels deep; strings are valid UTF-8 without U+0000 or
// unpaired surrogate escapes, which jsonb refuses; numbers are finite as JavaScript doubles and
// have at most MaxNumberScale decimal places. The generator is at most MaxGeneratorBytes of
// UTF-8 without U+0000.
//
// Shape: the structure is an object; "frames", if present, is an object of objects whose keys
// are usable frame ids (non-empty, at most MaxFrameIDRunes characters, no control characters,
// not "hasOwnProperty"); "sequence", if present, is an array of at most MaxSequenceLen strings;
// "exact_text", if present, is a string (Lookit's editor keeps the text the researcher typed
// there; lookit-api.md §1.2). A top-level key or a frame id may appear only once, since the
// browser and jsonb would silently keep the last copy. Every other key, at every level, is kept
// and not checked: the frameplayer has dozens of frame types and studies may pin any version.
//
// Without a generator the runner resolves every sequence entry with frames.hasOwnProperty(id)
// and throws on a miss (contract §1.4: "sequence entries are keys of frames"), so "frames" and
// "sequence" are required and every entry must be a frame id. Each frame the sequence reaches is
// then checked for what the runner's parser (app/utils/parse-experiment.js) certainly rejects:
//
//   - "kind" must be present and a string; the parser dispatches on it and throws otherwise.
//     Unknown kinds are accepted (contract §1.4 lists "group", "choice" and "exp-*"; we do not
//     keep a list of exp-* frame types).
//   - "group" frames need a "frameList" array; each entry is a frame object merged over
//     "commonFrameProperties" and is checked the same way, recursively. A group's frameList holds
//     frames themselves, not frame ids.
//   - "choice" frames (randomizers) need a non-empty string "sampler". Sampler names and their
//     options (frameList, parameterSets, ...) differ between runner versions and are not checked.
//   - Plain frames (kind "exp-..."): the runner takes the frame's id from its "id" member or else
//     from its key in frames, and requires it to match ^[A-Za-z0-9-. ]+$ and not to end in
//     -repeat-N (contract §1.4). Video file names split on "_" (contract §3), which is why "_" is
//     not allowed. Frames that the sequence does not reach are not checked this way, so a draft
//     may keep spare frames.
//   - A frame with truthy "parameters" has its string values substituted by the runner before it
//     is resolved, so only what substitution cannot change is checked there: "kind" is present
//     and a string.
//
// With use_generator the runner calls the generator and uses the frames and sequence it returns;
// the saved structure is only its fallback if the generator fails. So the sequence may be empty
// and may name frames that are not in "frames", and only the shape rules apply. The generator
// must be non-empty and define function generateProtocol; this is a textual check, since the
// server never runs researchers' JavaScript.
//
// A new study starts with Lookit's default structure {"frames": {}, "sequence": []}, so an empty
// sequence is valid while the study is being drafted; ReadyToSubmit additionally requires a
// non-empty sequence (or a generator) when the study is submitted for review.
//
// Errors come in a fixed order: first storage and syntax problems in document order, then shape
// problems in document order (so frames in the key order of the input), then missing members,
// then the sequence in index order, each entry's frame checked the first time it is reached; the
// generator last. Only the first problem is reported.
//
// # Consent and exit frames
//
// The runner marks a session's completed_consent_frame when an exp-lookit-video-consent,
// exp-lookit-survey-consent or exp-lookit-video-assent frame finishes, and completed when the
// exp-lookit-exit-survey frame is submitted (contract §1.8, "Which fields get set where"). Its
// parser warns, without failing, when there is no consent frame or when the last frame is not an
// exit survey (contract §4, "Parse warnings"). IsConsentFrame and IsExitFrame recognise these
// kinds. Session data identifies the same frames differently: each frame's entry in a response's
// exp_data carries "frameType": "CONSENT" or "EXIT" (contract §1.8 example; lookit-api.md §1.2
// Response and §4.3), see ExpDataFrameTypeConsent and ExpDataFrameTypeExit.
package protocol
