//! A small lossless XML tree over quick-xml events.
//!
//! Pure. Elements keep their qualified names (prefixes included) and their
//! attributes in order with their raw (still escaped) values; text, comments,
//! CDATA, processing instructions and the declaration are kept verbatim. Writing
//! the tree back gives the same document up to attribute quoting and whitespace
//! inside tags, so elements and attributes we do not change come out as they came.

use quick_xml::events::Event;
use quick_xml::Reader;
use thiserror::Error;

/// Why a document could not be read.
#[derive(Debug, Error, PartialEq)]
pub enum XmlError {
    /// Not well-formed.
    #[error("XML error at byte {position}: {message}")]
    Syntax {
        /// Byte offset.
        position: u64,
        /// What the reader said.
        message: String,
    },
    /// No root element.
    #[error("no root element")]
    NoRoot,
    /// Nested deeper than we accept.
    #[error("elements nested deeper than {0}")]
    TooDeep(usize),
}

/// Deepest nesting accepted.
const MAX_DEPTH: usize = 128;

/// A node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// An element.
    Element(Element),
    /// Character data, raw (escaped) as written.
    Text(String),
    /// `<!--...-->`, inner text.
    Comment(String),
    /// `<![CDATA[...]]>`, inner text.
    CData(String),
    /// `<?...?>`, inner text.
    Pi(String),
    /// `<?xml ...?>`, inner text.
    Decl(String),
    /// `<!DOCTYPE ...>`, inner text.
    DocType(String),
}

/// An element.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Element {
    /// Qualified name as written (`scte35:SpliceInfoSection`).
    pub name: String,
    /// Attributes in order: (qualified name, raw escaped value).
    pub attrs: Vec<(String, String)>,
    /// Children in order.
    pub children: Vec<Node>,
}

/// A document: what comes before the root, the root, what comes after.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Declaration, comments, whitespace before the root.
    pub prolog: Vec<Node>,
    /// The root element.
    pub root: Element,
    /// Anything after the root.
    pub epilog: Vec<Node>,
}

fn utf8(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Whether `name` can be written back as an element or attribute name: XML's
/// `Name` (XML 1.0 section 2.3) for ASCII (letters, digits, `_ - . :`, not starting
/// with a digit, `-` or `.`); other characters are left to the XML reader.
fn is_name(name: &[u8]) -> bool {
    let ok = |b: &u8| !b.is_ascii() || b.is_ascii_alphanumeric() || b"_-.:".contains(b);
    match name.first() {
        None => false,
        Some(first) => !first.is_ascii_digit() && !b"-.".contains(first) && name.iter().all(ok),
    }
}

/// The element a start (or empty) tag opens. quick-xml reads `<\n/>` as an element
/// with an empty name and `<" "/>` as one named `"`, which would be written back as
/// `</>` and `<"/>`: such names (of elements and attributes) are refused.
fn element_from(
    start: &quick_xml::events::BytesStart<'_>,
    position: u64,
) -> Result<Element, XmlError> {
    let bad_name = |what: &str| XmlError::Syntax {
        position,
        message: format!("{what} name that is not an XML name"),
    };
    if !is_name(start.name().as_ref()) {
        return Err(bad_name("element"));
    }
    let mut el = Element {
        name: utf8(start.name().as_ref()),
        ..Element::default()
    };
    for a in start.attributes().with_checks(false).flatten() {
        if !is_name(a.key.as_ref()) {
            return Err(bad_name("attribute"));
        }
        // A single-quoted value may hold a raw `"`: store it escaped, so the raw
        // values compare equal however the source quoted them.
        el.attrs
            .push((utf8(a.key.as_ref()), utf8(&a.value).replace('"', "&quot;")));
    }
    Ok(el)
}

/// Parse a document.
pub fn parse(text: &str) -> Result<Document, XmlError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut prolog = Vec::new();
    let mut epilog = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let ev = reader.read_event().map_err(|e| XmlError::Syntax {
            position: reader.error_position(),
            message: e.to_string(),
        })?;
        let node = match ev {
            Event::Eof => break,
            Event::Start(s) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep(MAX_DEPTH));
                }
                if root.is_some() && stack.is_empty() {
                    return Err(XmlError::Syntax {
                        position: reader.buffer_position(),
                        message: "a second root element".into(),
                    });
                }
                stack.push(element_from(&s, reader.buffer_position())?);
                continue;
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(XmlError::Syntax {
                        position: reader.buffer_position(),
                        message: "unexpected end tag".into(),
                    });
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(done)),
                    None => root = Some(done),
                }
                continue;
            }
            Event::Empty(s) => {
                let el = element_from(&s, reader.buffer_position())?;
                if stack.is_empty() {
                    if root.is_some() {
                        return Err(XmlError::Syntax {
                            position: reader.buffer_position(),
                            message: "a second root element".into(),
                        });
                    }
                    root = Some(el);
                    continue;
                }
                Node::Element(el)
            }
            // Outside the root element XML allows only whitespace: other text
            // there (a second byte-order mark, bytes before `<MPD`) would not read
            // back as it was written.
            Event::Text(t)
                if stack.is_empty()
                    && !t.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) =>
            {
                return Err(XmlError::Syntax {
                    position: reader.buffer_position(),
                    message: "text outside the root element".into(),
                });
            }
            Event::CData(_) if stack.is_empty() => {
                return Err(XmlError::Syntax {
                    position: reader.buffer_position(),
                    message: "CDATA outside the root element".into(),
                });
            }
            Event::Text(t) => Node::Text(utf8(&t)),
            Event::CData(t) => Node::CData(utf8(&t)),
            Event::Comment(t) => Node::Comment(utf8(&t)),
            Event::PI(t) => Node::Pi(utf8(&t)),
            Event::Decl(t) => Node::Decl(utf8(&t)),
            Event::DocType(t) => Node::DocType(utf8(&t)),
        };
        match (stack.last_mut(), root.is_some()) {
            (Some(parent), _) => parent.children.push(node),
            (None, false) => prolog.push(node),
            (None, true) => epilog.push(node),
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Syntax {
            position: reader.buffer_position(),
            message: format!("unclosed element <{}>", stack[stack.len() - 1].name),
        });
    }
    let root = root.ok_or(XmlError::NoRoot)?;
    Ok(Document {
        prolog,
        root,
        epilog,
    })
}

/// Write a document back to text.
pub fn write(doc: &Document) -> String {
    let mut out = String::with_capacity(4096);
    for n in &doc.prolog {
        write_node(&mut out, n);
    }
    write_element(&mut out, &doc.root);
    for n in &doc.epilog {
        write_node(&mut out, n);
    }
    out
}

/// Write one node (and its subtree).
pub fn write_node(out: &mut String, n: &Node) {
    match n {
        Node::Element(e) => write_element(out, e),
        Node::Text(t) => out.push_str(t),
        Node::Comment(t) => {
            out.push_str("<!--");
            out.push_str(t);
            out.push_str("-->");
        }
        Node::CData(t) => {
            out.push_str("<![CDATA[");
            out.push_str(t);
            out.push_str("]]>");
        }
        Node::Pi(t) => {
            out.push_str("<?");
            out.push_str(t);
            out.push_str("?>");
        }
        Node::Decl(t) => {
            out.push_str("<?");
            out.push_str(t);
            out.push_str("?>");
        }
        Node::DocType(t) => {
            out.push_str("<!DOCTYPE ");
            out.push_str(t);
            out.push('>');
        }
    }
}

/// Write one element (and its subtree).
pub fn write_element(out: &mut String, e: &Element) {
    out.push('<');
    out.push_str(&e.name);
    for (k, v) in &e.attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        out.push_str(v);
        out.push('"');
    }
    if e.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for c in &e.children {
        write_node(out, c);
    }
    out.push_str("</");
    out.push_str(&e.name);
    out.push('>');
}

/// Escape text for an attribute value or element content.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

/// Append `s` escaped for an attribute value or element content.
pub fn escape_into(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&apos;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// Unescape the five predefined entities and numeric references; unknown ones are
/// kept as written.
pub fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    quick_xml::escape::unescape(s).map_or_else(|_| s.to_string(), |c| c.into_owned())
}

/// The local part of a qualified name.
pub fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

impl Element {
    /// A new element with no attributes or children.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            ..Self::default()
        }
    }

    /// Local name.
    pub fn local_name(&self) -> &str {
        local(&self.name)
    }

    /// An attribute's value, unescaped (matched on the qualified name).
    pub fn attr(&self, name: &str) -> Option<String> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| unescape(v))
    }

    /// Set an attribute (escaping the value), keeping its place if it exists.
    pub fn set_attr(&mut self, name: &str, value: &str) {
        let v = escape(value);
        match self.attrs.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = v,
            None => self.attrs.push((name.to_string(), v)),
        }
    }

    /// Remove an attribute.
    pub fn remove_attr(&mut self, name: &str) {
        self.attrs.retain(|(k, _)| k != name);
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// Child elements, mutable.
    pub fn elements_mut(&mut self) -> impl Iterator<Item = &mut Element> {
        self.children.iter_mut().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// Child elements with this local name.
    pub fn children_named<'a>(&'a self, local_name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.elements()
            .filter(move |e| e.local_name() == local_name)
    }

    /// First child element with this local name.
    pub fn child(&self, local_name: &str) -> Option<&Element> {
        self.elements().find(|e| e.local_name() == local_name)
    }

    /// Text content (unescaped, CDATA included), trimmed.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for n in &self.children {
            match n {
                Node::Text(t) => s.push_str(&unescape(t)),
                Node::CData(t) => s.push_str(t),
                _ => {}
            }
        }
        s.trim().to_string()
    }

    /// Keep only the child elements for which `keep` is true; a removed element's
    /// preceding whitespace goes with it.
    pub fn retain_elements(&mut self, mut keep: impl FnMut(&Element) -> bool) {
        let mut out: Vec<Node> = Vec::with_capacity(self.children.len());
        for n in std::mem::take(&mut self.children) {
            match n {
                Node::Element(e) if !keep(&e) => {
                    if matches!(out.last(), Some(Node::Text(t)) if t.trim().is_empty()) {
                        out.pop();
                    }
                }
                other => out.push(other),
            }
        }
        self.children = out;
    }

    /// Replace the content with one text node.
    pub fn set_text(&mut self, text: &str) {
        self.children = vec![Node::Text(escape(text))];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "<?xml version=\"1.0\"?>\n<!-- c -->\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" xmlns:scte35=\"urn:scte:scte35:2014:xml+bin\" x:foo='a\"b' type=\"dynamic\">\n  <Unknown attr=\"1\">t &amp; u<![CDATA[<raw>]]></Unknown>\n  <scte35:Signal><scte35:Binary>/DA=</scte35:Binary></scte35:Signal>\n  <Empty/>\n</MPD>\n";

    #[test]
    fn round_trips() {
        let d = parse(DOC).unwrap();
        let out = write(&d);
        assert_eq!(parse(&out).unwrap(), d);
        assert!(out.contains("x:foo=\"a&quot;b\""));
        assert!(out.contains("<![CDATA[<raw>]]>"));
        assert!(out.contains("<!-- c -->"));
        let unknown = d.root.child("Unknown").unwrap();
        assert_eq!(unknown.text(), "t & u<raw>");
        assert_eq!(
            d.root
                .child("Signal")
                .unwrap()
                .child("Binary")
                .unwrap()
                .text(),
            "/DA="
        );
    }

    #[test]
    fn rejects_broken_xml() {
        assert!(parse("<MPD><Period></MPD>").is_err());
        assert!(parse("").is_err());
        assert!(parse("<a/><b/>").is_err());
        assert!(parse("just text").is_err());
    }

    /// Found by the `dash_mpd` fuzz target: `<` then whitespace then `/>` was read as
    /// an element with an empty name and written back as `</>`, and `<" "/>` as one
    /// named `"` written back as `<"/>`: documents that do not parse (a player would
    /// have been served them).
    #[test]
    fn refuses_names_it_cannot_write_back() {
        for text in [
            "<\n/>",
            "< />",
            "<MPD><\t/></MPD>",
            "<MPD>< ></ ></MPD>",
            "<\" \"/>",
            "<MPD a\"b=\"1\"/>",
        ] {
            assert!(
                matches!(parse(text), Err(XmlError::Syntax { .. })),
                "{text:?}: {:?}",
                parse(text)
            );
        }
        // Every document it accepts is written back as one it accepts again.
        let d = parse("<MPD><a\n/><b x=\"1\"\n/><scte35:c-d.e_f\u{e9}/></MPD>").unwrap();
        assert_eq!(parse(&write(&d)).unwrap(), d);
    }

    /// The fuzzer's input: two byte-order marks, then bytes before `<MPD`. The
    /// first mark is dropped by the reader, the rest was kept as text, and written
    /// back it lost the second mark too. XML allows only whitespace there.
    #[test]
    fn refuses_text_outside_the_root_element() {
        for text in [
            "\u{feff}\u{feff}m.\n<MPD/>",
            "junk<MPD/>",
            "<MPD/>junk",
            "<![CDATA[x]]><MPD/>",
        ] {
            assert!(
                matches!(parse(text), Err(XmlError::Syntax { .. })),
                "{text:?}: {:?}",
                parse(text)
            );
        }
        let d = parse("\u{feff}<?xml version=\"1.0\"?>\n<!-- c -->\n<MPD/>\n").unwrap();
        assert_eq!(write(&d), "<?xml version=\"1.0\"?>\n<!-- c -->\n<MPD/>\n");
    }
}
