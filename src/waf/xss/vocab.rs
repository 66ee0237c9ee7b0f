//! Vocabulary: dangerous tags and attributes, DOM event names, sinks and globals.

use super::bytes::*;
use super::*;

/// Tags that are dangerous as soon as they open.
pub(super) const DANGEROUS_TAGS: &[&str] = &[
    "applet", "base", "bgsound", "comment", "embed", "form", "frame", "frameset", "handler",
    "iframe", "ilayer", "import", "isindex", "layer", "link", "listener", "math", "meta",
    "noscript", "object", "portal", "style", "svg", "vmlframe", "xml", "xss",
];

/// [`DANGEROUS_TAGS`] with a filter in front (the lookup at every tag name).
pub(super) static DANGEROUS_TAG_WORDS: Words = Words::new(DANGEROUS_TAGS);

/// [`DANGEROUS_ATTRS`] with a filter in front.
pub(super) static DANGEROUS_ATTR_WORDS: Words = Words::new(DANGEROUS_ATTRS);

/// [`DANGEROUS_TAGS`] then `script`: the names [`tag_rule`] fires on.
const TAG_RULE_NAMES: [&str; DANGEROUS_TAGS.len() + 1] = {
    let mut a = [""; DANGEROUS_TAGS.len() + 1];
    let mut i = 0;
    while i < DANGEROUS_TAGS.len() {
        a[i] = DANGEROUS_TAGS[i];
        i += 1;
    }
    a[DANGEROUS_TAGS.len()] = "script";
    a
};

/// [`TAG_RULE_NAMES`] with a filter in front: one lookup at every tag name.
static TAG_RULE_WORDS: Words = Words::new(&TAG_RULE_NAMES);

/// The rule for a dangerous tag name `b[s..e]`, if any.
pub(super) fn tag_rule(b: &[u8], s: usize, e: usize) -> Option<&'static str> {
    let len = e.checked_sub(s)?;
    if !(3..=8).contains(&len) {
        return None;
    }
    match TAG_RULE_WORDS.find(b, s, e)? {
        k if k == DANGEROUS_TAGS.len() => Some(R_SCRIPT),
        _ => Some(R_TAG),
    }
}

/// Attributes that only make sense for script execution or markup takeover.
pub(super) const DANGEROUS_ATTRS: &[&str] = &[
    "attributename",
    "dataformatas",
    "datasrc",
    "formaction",
    "srcdoc",
];

/// DOM event names (without the `on` prefix), sorted for binary search.
pub(super) const EVENTS: &[&str] = &[
    "abort",
    "activate",
    "addtrack",
    "afterprint",
    "afterscriptexecute",
    "afterupdate",
    "animationcancel",
    "animationend",
    "animationiteration",
    "animationstart",
    "appinstalled",
    "auxclick",
    "beforeactivate",
    "beforecopy",
    "beforecut",
    "beforedeactivate",
    "beforeeditfocus",
    "beforeinput",
    "beforematch",
    "beforepaste",
    "beforeprint",
    "beforescriptexecute",
    "beforetoggle",
    "beforeunload",
    "beforeupdate",
    "begin",
    "blur",
    "bounce",
    "cancel",
    "canplay",
    "canplaythrough",
    "cellchange",
    "change",
    "click",
    "close",
    "contentvisibilityautostatechange",
    "contextlost",
    "contextmenu",
    "contextrestored",
    "controlselect",
    "copy",
    "cuechange",
    "cut",
    "dataavailable",
    "datasetchanged",
    "datasetcomplete",
    "dblclick",
    "deactivate",
    "devicemotion",
    "deviceorientation",
    "drag",
    "dragdrop",
    "dragend",
    "dragenter",
    "dragexit",
    "dragleave",
    "dragover",
    "dragstart",
    "drop",
    "durationchange",
    "emptied",
    "encrypted",
    "end",
    "ended",
    "error",
    "errorupdate",
    "filterchange",
    "finish",
    "focus",
    "focusin",
    "focusout",
    "formchange",
    "formdata",
    "forminput",
    "fullscreenchange",
    "fullscreenerror",
    "gotpointercapture",
    "hashchange",
    "help",
    "input",
    "invalid",
    "keydown",
    "keypress",
    "keyup",
    "languagechange",
    "layoutcomplete",
    "load",
    "loadeddata",
    "loadedmetadata",
    "loadend",
    "loadstart",
    "losecapture",
    "lostpointercapture",
    "message",
    "messageerror",
    "mousedown",
    "mouseenter",
    "mouseleave",
    "mousemove",
    "mouseout",
    "mouseover",
    "mouseup",
    "mousewheel",
    "move",
    "moveend",
    "movestart",
    "mozfullscreenchange",
    "offline",
    "online",
    "orientationchange",
    "pagehide",
    "pageshow",
    "paste",
    "pause",
    "play",
    "playing",
    "pointercancel",
    "pointerdown",
    "pointerenter",
    "pointerleave",
    "pointermove",
    "pointerout",
    "pointerover",
    "pointerrawupdate",
    "pointerup",
    "popstate",
    "progress",
    "propertychange",
    "ratechange",
    "readystatechange",
    "rejectionhandled",
    "repeat",
    "reset",
    "resize",
    "rowenter",
    "rowexit",
    "rowsdelete",
    "rowsinserted",
    "scroll",
    "scrollend",
    "search",
    "securitypolicyviolation",
    "seeked",
    "seeking",
    "select",
    "selectionchange",
    "selectstart",
    "show",
    "slotchange",
    "stalled",
    "start",
    "stop",
    "storage",
    "submit",
    "suspend",
    "timeout",
    "timeupdate",
    "toggle",
    "touchcancel",
    "touchend",
    "touchmove",
    "touchstart",
    "transitioncancel",
    "transitionend",
    "transitionrun",
    "transitionstart",
    "unhandledrejection",
    "unload",
    "volumechange",
    "waiting",
    "webkitanimationend",
    "webkitanimationiteration",
    "webkitanimationstart",
    "webkitmouseforcechanged",
    "webkitmouseforcedown",
    "webkitmouseforceup",
    "webkitmouseforcewillbegin",
    "webkitplaybacktargetavailabilitychanged",
    "webkittransitionend",
    "wheel",
    "zoom",
];

/// For each first letter of an event name, the lengths of those names (bit `n` for `n`
/// bytes; all are shorter than 64): most words are no event by these two alone.
static EVENT_LENS: [u64; 26] = {
    let mut t = [0u64; 26];
    let mut i = 0;
    while i < EVENTS.len() {
        let w = EVENTS[i].as_bytes();
        assert!(w.len() < 64 && w[0].is_ascii_lowercase());
        t[(w[0] - b'a') as usize] |= 1 << w.len();
        i += 1;
    }
    t
};

pub(super) fn is_event(b: &[u8], s: usize, e: usize) -> bool {
    let first = b.get(s).map_or(0, |c| c.to_ascii_lowercase());
    if e <= s || e - s >= 64 || !first.is_ascii_lowercase() {
        return false;
    }
    if EVENT_LENS[usize::from(first - b'a')] >> (e - s) & 1 == 0 {
        return false;
    }
    let mut tmp = [0u8; 48];
    let name = &mut tmp[..e - s];
    for (d, &c) in name.iter_mut().zip(&b[s..e]) {
        *d = c.to_ascii_lowercase();
    }
    let name = &*name;
    EVENTS.binary_search_by(|w| w.as_bytes().cmp(name)).is_ok()
}

/// Function names whose call is flagged; `true` = a space before `(` is allowed.
pub(super) const CALLS: &[(&str, bool)] = &[
    ("alert", false),
    ("prompt", false),
    ("confirm", false),
    ("eval", true),
    ("settimeout", true),
    ("setinterval", true),
    ("setimmediate", true),
    ("execscript", true),
    ("fromcharcode", true),
    ("atob", true),
    ("btoa", true),
    ("importscripts", true),
];

/// The names of [`CALLS`], in its order.
const CALL_NAMES: [&str; CALLS.len()] = {
    let mut names = [""; CALLS.len()];
    let mut k = 0;
    while k < CALLS.len() {
        names[k] = CALLS[k].0;
        k += 1;
    }
    names
};

/// [`CALLS`]' names with a filter in front (the lookup at every `(` and `` ` `` after a word).
pub(super) static CALL_WORDS: Words = Words::new(&CALL_NAMES);

pub(super) const GLOBALS: &[&str] = &[
    "document",
    "window",
    "self",
    "top",
    "parent",
    "opener",
    "frames",
    "globalthis",
    "location",
];

pub(super) const DOCUMENT_PROPS: &[&str] = &[
    "all",
    "baseuri",
    "body",
    "cookie",
    "createelement",
    "createrange",
    "defaultview",
    "documentelement",
    "documenturi",
    "domain",
    "evaluate",
    "execcommand",
    "forms",
    "getelementbyid",
    "getelementsbyclassname",
    "getelementsbyname",
    "getelementsbytagname",
    "head",
    "images",
    "implementation",
    "links",
    "location",
    "open",
    "queryselector",
    "queryselectorall",
    "referrer",
    "scripts",
    "url",
    "write",
    "writeln",
];

pub(super) const WINDOW_PROPS: &[&str] = &[
    "alert",
    "atob",
    "confirm",
    "constructor",
    "document",
    "eval",
    "execscript",
    "fetch",
    "localstorage",
    "location",
    "name",
    "onerror",
    "onload",
    "open",
    "opener",
    "postmessage",
    "prompt",
    "sessionstorage",
    "setinterval",
    "settimeout",
];

pub(super) const LOCATION_PROPS: &[&str] = &["assign", "hash", "href", "replace"];
