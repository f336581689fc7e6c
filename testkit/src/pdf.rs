//! PDFs made by the tests, with known text and structure: byte-exact hand-written ones (for
//! hostile variants a library would refuse to write) and lopdf-built ones (multi-page,
//! compressed, with metadata, encrypted, image-only), so the important real-world cases run
//! without the corpus.

use lopdf::content::{Content, Operation};
use lopdf::encryption::crypt_filters::{Aes256CryptFilter, CryptFilter};
use lopdf::encryption::{EncryptionState, EncryptionVersion, Permissions};
use lopdf::{dictionary, Document, Object, Stream, StringFormat};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A one-page PDF showing `text`, with a correct cross-reference table.
pub fn pdf(text: &str) -> Vec<u8> {
    pdf_with_content(
        format!("BT /F1 18 Tf 72 720 Td ({text}) Tj ET").as_bytes(),
        "",
    )
}

/// A one-page PDF whose content stream is `stream`, its dictionary extended by `filter`.
pub fn pdf_with_content(stream: &[u8], filter: &str) -> Vec<u8> {
    let mut content = format!("<< /Length {} {filter} >>\nstream\n", stream.len()).into_bytes();
    content.extend_from_slice(stream);
    content.extend_from_slice(b"\nendstream");
    let objects: [Vec<u8>; 5] = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_vec(),
        content,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (number, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", number + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A page whose content stream inflates to 100 MB of spaces.
pub fn inflation_bomb() -> Vec<u8> {
    let spaces = vec![b' '; 100 << 20];
    let mut deflater = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut deflater, &spaces).expect("compressed");
    let deflated = deflater.finish().expect("compressed");
    pdf_with_content(&deflated, "/Filter /FlateDecode")
}

/// A cross-reference table that claims 2^31 - 1 entries (with a trailer /Size to match) over
/// the two it has, in front of an empty page tree. A parser that sized its tables from the claim
/// would allocate gigabytes; lopdf 0.47 reads entries as they come, so the document fails, fast
/// and small, on its page tree.
pub fn huge_xref() -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let catalog = out.len();
    out.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    let pages = out.len();
    out.extend_from_slice(b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n");
    let xref = out.len();
    out.extend_from_slice(
        format!(
            "xref\n0 2147483647\n0000000000 65535 f \n{catalog:010} 00000 n \n{pages:010} 00000 n \n\
             trailer\n<< /Size 2147483647 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
        )
        .as_bytes(),
    );
    out
}

/// Three hostile documents, each of which must fail with a reason inside the parser's limits.
pub fn hostile_documents() -> Vec<(&'static str, Vec<u8>)> {
    let whole = pdf("soon to be cut short");
    let truncated = whole[..whole.len() / 3].to_vec();
    // Arrays nested far deeper than any document: a recursive parser runs out of stack.
    let mut bomb = b"%PDF-1.4\n1 0 obj\n".to_vec();
    bomb.extend(std::iter::repeat_n(b'[', 2_000_000));
    bomb.extend_from_slice(b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
    vec![
        ("truncated", truncated),
        ("recursion bomb", bomb),
        ("huge xref", huge_xref()),
    ]
}

/// Ten documents: seven good ones of different makes, then the three hostile ones.
pub fn ten_documents() -> Vec<(String, Vec<u8>)> {
    let mut documents: Vec<(String, Vec<u8>)> = (0..4)
        .map(|n| {
            (
                format!("generated {n}"),
                pdf(&format!("Document number {n}")),
            )
        })
        .collect();
    documents.push((
        "compressed pages".into(),
        Built::pages(&["First page of three", "Second page", "Third page"]).save(),
    ));
    documents.push((
        "with metadata".into(),
        Built::pages(&["Beautiful is better than ugly."])
            .info("Zen", "Tim Peters")
            .save(),
    ));
    documents.push(("long".into(), Built::numbered_pages(40).save()));
    for (name, bytes) in hostile_documents() {
        documents.push((name.to_owned(), bytes));
    }
    documents
}

/// A document built with lopdf: one Helvetica text page per entry, compressed content streams.
pub struct Built {
    document: Document,
}

impl Built {
    /// One page per text, each showing its text on one line.
    pub fn pages(texts: &[&str]) -> Self {
        let mut document = Document::with_version("1.7");
        let pages_id = document.new_object_id();
        let font = document.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        });
        let resources = document.add_object(dictionary! {
            "Font" => dictionary! { "F1" => font },
        });
        let mut kids = Vec::new();
        for text in texts {
            let content = Content {
                operations: vec![
                    Operation::new("BT", vec![]),
                    Operation::new("Tf", vec!["F1".into(), 14.into()]),
                    Operation::new("Td", vec![72.into(), 720.into()]),
                    Operation::new(
                        "Tj",
                        vec![Object::String(
                            text.as_bytes().to_vec(),
                            StringFormat::Literal,
                        )],
                    ),
                    Operation::new("ET", vec![]),
                ],
            };
            kids.push(Self::page(&mut document, pages_id, resources, &content));
        }
        Self::finish(document, pages_id, kids)
    }

    /// `count` pages reading "Page 1 of the long document", "Page 2 ...".
    pub fn numbered_pages(count: usize) -> Self {
        let texts: Vec<String> = (1..=count)
            .map(|n| format!("Page {n} of the long document"))
            .collect();
        Self::pages(&texts.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// Two pages that only paint an image, as a scanner writes them.
    pub fn scanned() -> Self {
        let mut document = Document::with_version("1.5");
        let pages_id = document.new_object_id();
        let image = document.add_object(Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image", "Width" => 8, "Height" => 8,
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
            },
            vec![0x80; 64],
        ));
        let resources = document.add_object(dictionary! {
            "XObject" => dictionary! { "Im1" => image },
        });
        let content = Content {
            operations: vec![
                Operation::new("q", vec![]),
                Operation::new(
                    "cm",
                    vec![
                        612.into(),
                        0.into(),
                        0.into(),
                        792.into(),
                        0.into(),
                        0.into(),
                    ],
                ),
                Operation::new("Do", vec!["Im1".into()]),
                Operation::new("Q", vec![]),
            ],
        };
        let kids = (0..2)
            .map(|_| Self::page(&mut document, pages_id, resources, &content))
            .collect();
        Self::finish(document, pages_id, kids)
    }

    /// Sets the Info dictionary's title and author, and a producer naming this crate.
    pub fn info(mut self, title: &str, author: &str) -> Self {
        let info = self.document.add_object(dictionary! {
            "Title" => Object::string_literal(title),
            "Author" => Object::string_literal(author),
            "Producer" => Object::string_literal("s3-triage testkit"),
        });
        self.document.trailer.set("Info", info);
        self
    }

    /// Encrypts with RC4 (128-bit key, revision 3), openable with `user_password`.
    pub fn rc4(mut self, user_password: &str) -> Self {
        let version = EncryptionVersion::V2 {
            document: &self.document,
            owner_password: "owner",
            user_password,
            key_length: 128,
            permissions: Permissions::all(),
        };
        let state = EncryptionState::try_from(version).expect("RC4 encryption state");
        self.document.encrypt(&state).expect("encrypted");
        self
    }

    /// Encrypts with AES-256 (revision 6, PDF 2.0), openable with `user_password`.
    pub fn aes256(mut self, user_password: &str) -> Self {
        let filter: Arc<dyn CryptFilter> = Arc::new(Aes256CryptFilter);
        let version = EncryptionVersion::V5 {
            encrypt_metadata: true,
            crypt_filters: BTreeMap::from([(b"StdCF".to_vec(), filter)]),
            file_encryption_key: &[0x5a; 32],
            stream_filter: b"StdCF".to_vec(),
            string_filter: b"StdCF".to_vec(),
            owner_password: "owner",
            user_password,
            permissions: Permissions::all(),
        };
        let state = EncryptionState::try_from(version).expect("AES-256 encryption state");
        self.document.encrypt(&state).expect("encrypted");
        self
    }

    pub fn save(mut self) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.document.save_to(&mut bytes).expect("saved");
        bytes
    }

    fn page(
        document: &mut Document,
        pages_id: lopdf::ObjectId,
        resources: lopdf::ObjectId,
        content: &Content,
    ) -> Object {
        let mut stream = Stream::new(dictionary! {}, content.encode().expect("content encodes"));
        stream.compress().expect("compressed");
        let contents = document.add_object(stream);
        document
            .add_object(dictionary! {
                "Type" => "Page",
                "Parent" => pages_id,
                "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
                "Resources" => resources,
                "Contents" => contents,
            })
            .into()
    }

    fn finish(mut document: Document, pages_id: lopdf::ObjectId, kids: Vec<Object>) -> Self {
        let count = i64::try_from(kids.len()).expect("page count");
        document.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => kids, "Count" => count,
            }),
        );
        let catalog = document.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        document.trailer.set("Root", catalog);
        document.trailer.set(
            "ID",
            vec![
                Object::String(vec![7; 16], StringFormat::Hexadecimal),
                Object::String(vec![7; 16], StringFormat::Hexadecimal),
            ],
        );
        Self { document }
    }
}
