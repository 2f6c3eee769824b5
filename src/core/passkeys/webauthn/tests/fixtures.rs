//! What the tests play: two authenticators with fixed keys, and builders of client data,
//! authenticator data and attestation objects that a test bends one rule at a time.

use ed25519_dalek::Signer as _;
use sha2::{Digest, Sha256};

use super::super::{
    verify_assertion, verify_registration, Assertion, NewCredential, RelyingParty, WebAuthnError,
};
pub use super::encoder::{hex, text, Cbor};

pub const RP_ID: &str = "example.com";
pub const ORIGIN: &str = "https://app.example.com";
/// 32 bytes as base64url, as the edge would issue it.
pub const CHALLENGE: &str = "q2Wh1m0xjW6yqv7mWnJZ8Lz2vhKqk3eEw8lQnK3m1Fs";

pub const UP: u8 = 0x01;
pub const UV: u8 = 0x04;
pub const BE: u8 = 0x08;
pub const BS: u8 = 0x10;
pub const AT: u8 = 0x40;
pub const ED: u8 = 0x80;

pub fn rp() -> RelyingParty {
    RelyingParty {
        id: RP_ID.to_owned(),
        origins: vec!["https://example.com".to_owned(), ORIGIN.to_owned()],
    }
}

/// An authenticator's credential key, from fixed bytes so that every run signs the same.
#[derive(Clone)]
pub enum Key {
    P256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

impl Key {
    pub fn p256() -> Self {
        Key::P256(p256::ecdsa::SigningKey::from_slice(&[0x17; 32]).expect("scalar"))
    }

    pub fn ed25519() -> Self {
        Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[0x42; 32]))
    }

    pub fn algorithm(&self) -> i64 {
        match self {
            Key::P256(_) => -7,
            Key::Ed25519(_) => -8,
        }
    }

    /// The COSE_Key map (RFC 9053 §7) of the public key.
    pub fn cose_map(&self) -> Vec<(Cbor, Cbor)> {
        match self {
            Key::P256(key) => {
                let point = key.verifying_key().to_encoded_point(false);
                vec![
                    (Cbor::Int(1), Cbor::Int(2)),
                    (Cbor::Int(3), Cbor::Int(-7)),
                    (Cbor::Int(-1), Cbor::Int(1)),
                    (Cbor::Int(-2), Cbor::Bytes(point.x().expect("x").to_vec())),
                    (Cbor::Int(-3), Cbor::Bytes(point.y().expect("y").to_vec())),
                ]
            }
            Key::Ed25519(key) => vec![
                (Cbor::Int(1), Cbor::Int(1)),
                (Cbor::Int(3), Cbor::Int(-8)),
                (Cbor::Int(-1), Cbor::Int(6)),
                (
                    Cbor::Int(-2),
                    Cbor::Bytes(key.verifying_key().to_bytes().to_vec()),
                ),
            ],
        }
    }

    pub fn cose(&self) -> Vec<u8> {
        Cbor::Map(self.cose_map()).encode()
    }

    /// ES256 as ASN.1 DER, Ed25519 as 64 raw bytes (WebAuthn §6.5.6).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Key::P256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature.to_der().as_bytes().to_vec()
            }
            Key::Ed25519(key) => key.sign(message).to_bytes().to_vec(),
        }
    }
}

/// The members of clientDataJSON a browser writes.
#[derive(Clone)]
pub struct ClientData {
    pub kind: String,
    pub challenge: String,
    pub origin: String,
    /// Raw JSON members appended after `origin`, e.g. `,"crossOrigin":true`.
    pub extra: String,
}

impl ClientData {
    pub fn new(kind: &str) -> Self {
        ClientData {
            kind: kind.to_owned(),
            challenge: CHALLENGE.to_owned(),
            origin: ORIGIN.to_owned(),
            extra: r#","crossOrigin":false"#.to_owned(),
        }
    }

    pub fn json(&self) -> Vec<u8> {
        format!(
            r#"{{"type":"{}","challenge":"{}","origin":"{}"{}}}"#,
            self.kind, self.challenge, self.origin, self.extra
        )
        .into_bytes()
    }
}

/// The attested credential data of §6.5.1.
#[derive(Clone)]
pub struct Attested {
    pub aaguid: [u8; 16],
    pub credential_id: Vec<u8>,
    pub public_key: Vec<u8>,
}

/// Authenticator data (§6.1), byte by byte.
#[derive(Clone)]
pub struct AuthData {
    pub rp_id: String,
    pub flags: u8,
    pub sign_count: u32,
    pub attested: Option<Attested>,
    pub extensions: Option<Vec<u8>>,
    pub trailing: Vec<u8>,
}

impl AuthData {
    pub fn new(flags: u8) -> Self {
        AuthData {
            rp_id: RP_ID.to_owned(),
            flags,
            sign_count: 0,
            attested: None,
            extensions: None,
            trailing: Vec::new(),
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut out = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        out.push(self.flags);
        out.extend(self.sign_count.to_be_bytes());
        if let Some(attested) = &self.attested {
            out.extend(attested.aaguid);
            out.extend((attested.credential_id.len() as u16).to_be_bytes());
            out.extend(&attested.credential_id);
            out.extend(&attested.public_key);
        }
        if let Some(extensions) = &self.extensions {
            out.extend(extensions);
        }
        out.extend(&self.trailing);
        out
    }
}

/// The attestation statement to send.
#[derive(Clone)]
pub enum Statement {
    /// `packed` self attestation signed by the credential key, under this `alg`.
    PackedSelf { alg: i64 },
    /// Exactly this `attStmt`.
    Raw(Cbor),
}

/// A registration response: valid as built by [`Registration::new`].
#[derive(Clone)]
pub struct Registration {
    pub key: Key,
    pub client_data: ClientData,
    pub auth_data: AuthData,
    pub format: String,
    pub statement: Statement,
    /// Bytes appended after the attestation object's CBOR.
    pub trailing: Vec<u8>,
}

impl Registration {
    /// `packed` self attestation with UP, UV and BE set and a 16-byte credential ID.
    pub fn new(key: Key) -> Self {
        let mut auth_data = AuthData::new(UP | UV | BE | AT);
        auth_data.sign_count = 1;
        auth_data.attested = Some(Attested {
            aaguid: [0xa7; 16],
            credential_id: vec![0xc1; 16],
            public_key: key.cose(),
        });
        Registration {
            statement: Statement::PackedSelf {
                alg: key.algorithm(),
            },
            key,
            client_data: ClientData::new("webauthn.create"),
            auth_data,
            format: "packed".to_owned(),
            trailing: Vec::new(),
        }
    }

    /// `fmt: none` with an empty statement.
    pub fn none(key: Key) -> Self {
        Registration {
            format: "none".to_owned(),
            statement: Statement::Raw(Cbor::Map(vec![])),
            ..Registration::new(key)
        }
    }

    pub fn attested(&mut self) -> &mut Attested {
        self.auth_data.attested.as_mut().expect("attested")
    }

    /// clientDataJSON and attestationObject.
    pub fn build(&self) -> (Vec<u8>, Vec<u8>) {
        let client_data = self.client_data.json();
        let auth_data = self.auth_data.bytes();
        let statement = match &self.statement {
            Statement::PackedSelf { alg } => {
                let signed = [auth_data.as_slice(), &Sha256::digest(&client_data)].concat();
                Cbor::Map(vec![
                    (text("alg"), Cbor::Int(*alg)),
                    (text("sig"), Cbor::Bytes(self.key.sign(&signed))),
                ])
            }
            Statement::Raw(statement) => statement.clone(),
        };
        let mut object = Cbor::Map(vec![
            (text("fmt"), text(&self.format)),
            (text("attStmt"), statement),
            (text("authData"), Cbor::Bytes(auth_data)),
        ])
        .encode();
        object.extend(&self.trailing);
        (client_data, object)
    }

    /// Verified as the edge would, requiring user verification.
    pub fn verify(&self) -> Result<NewCredential, WebAuthnError> {
        let (client_data, object) = self.build();
        verify_registration(&client_data, &object, CHALLENGE, &rp(), true)
    }
}

/// An assertion response: valid as built by [`Authentication::new`].
#[derive(Clone)]
pub struct Authentication {
    pub key: Key,
    /// The COSE key the edge stored (the signer's unless a test swaps it).
    pub stored_key: Vec<u8>,
    pub stored_sign_count: u32,
    pub client_data: ClientData,
    pub auth_data: AuthData,
    pub corrupt_signature: bool,
}

impl Authentication {
    /// UP and UV set, counter 8 against a stored 7.
    pub fn new(key: Key) -> Self {
        let mut auth_data = AuthData::new(UP | UV);
        auth_data.sign_count = 8;
        Authentication {
            stored_key: key.cose(),
            key,
            stored_sign_count: 7,
            client_data: ClientData::new("webauthn.get"),
            auth_data,
            corrupt_signature: false,
        }
    }

    /// clientDataJSON, authenticatorData and signature.
    pub fn build(&self) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let client_data = self.client_data.json();
        let auth_data = self.auth_data.bytes();
        let signed = [auth_data.as_slice(), &Sha256::digest(&client_data)].concat();
        let mut signature = self.key.sign(&signed);
        if self.corrupt_signature {
            let last = signature.len() - 1;
            signature[last] ^= 0x01;
        }
        (client_data, auth_data, signature)
    }

    /// Verified as the edge would, requiring user verification.
    pub fn verify(&self) -> Result<Assertion, WebAuthnError> {
        let (client_data, auth_data, signature) = self.build();
        verify_assertion(
            &client_data,
            &auth_data,
            &signature,
            &self.stored_key,
            CHALLENGE,
            &rp(),
            self.stored_sign_count,
            true,
        )
    }
}
