//! The golden fixture's generated code (`fixtures/golden.rs`) compiled and exercised.

#[allow(dead_code)]
#[rustfmt::skip]
#[path = "fixtures/golden.rs"]
mod golden;

use golden::{enums, functions, types};
use tl_wire::{Deserialize, Identifiable, RemoteCall, Serialize};

#[test]
fn recursive_types_are_boxed_and_round_trip() {
    let tree = enums::tree::Node::Branch(Box::new(types::tree::Branch {
        left: types::tree::Leaf { value: 1 }.into(),
        right: types::tree::Leaf { value: 2 }.into(),
    }));
    let bytes = tree.to_bytes();
    // branch id, leaf id, 1, leaf id, 2
    assert_eq!(bytes.len(), 4 + 2 * 8);
    assert_eq!(
        &bytes[..4],
        &types::tree::Branch::CONSTRUCTOR_ID.to_le_bytes()
    );
    assert_eq!(enums::tree::Node::from_bytes(&bytes).unwrap(), tree);
}

#[test]
fn flags_word_is_computed_and_secrets_are_redacted() {
    let secret = types::SecretBox {
        code: "12345".into(),
        hint: None,
        urgent: true,
    };
    let bytes = secret.to_bytes();
    assert_eq!(
        &bytes[..4],
        &2u32.to_le_bytes(),
        "only bit 1 (urgent) is set"
    );
    assert_eq!(types::SecretBox::from_bytes(&bytes).unwrap(), secret);
    let debug = format!("{secret:?}");
    assert!(!debug.contains("12345"), "{debug}");
    assert!(debug.contains("code: <redacted>"), "{debug}");
}

#[test]
fn keywords_are_escaped_and_bare_types_are_inline() {
    let item = types::Item {
        r#type: 7,
        self_: -1,
        data: vec![1, 2, 3],
        big: [9; 16],
    };
    let pair = types::Pair {
        first: item.clone(),
        rest: vec![item.clone()].into(),
        flag: true,
    };
    let bytes = enums::Pair::from(pair.clone()).to_bytes();
    // id, bare item (4 + 8 + 4 + 16), bare vector (count + bare item), Bool
    assert_eq!(bytes.len(), 4 + 32 + (4 + 32) + 4);
    assert_eq!(
        enums::Pair::from_bytes(&bytes).unwrap(),
        enums::Pair::Pair(pair)
    );
}

#[test]
fn functions_have_new_setters_and_generic_return_types() {
    let call = functions::ns::GetItems::new(vec![5, 6]).limit(10);
    assert!(!call.full);
    let bytes = call.to_bytes();
    assert_eq!(
        &bytes[..4],
        &functions::ns::GetItems::CONSTRUCTOR_ID.to_le_bytes()
    );
    assert_eq!(&bytes[4..8], &(1u32 << 4).to_le_bytes());
    let wrapped = functions::InvokeWith::new(3, call.clone());
    let back = functions::InvokeWith::<functions::ns::GetItems>::from_bytes(&wrapped.to_bytes());
    assert_eq!(back.unwrap(), wrapped);
    fn returns<F: RemoteCall>(_: &F) -> &'static str {
        std::any::type_name::<F::Return>()
    }
    assert_eq!(returns(&wrapped), returns(&call));
    assert!(returns(&call).contains("Vec<") && returns(&call).contains("Item"));
}
