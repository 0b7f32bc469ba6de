//! Decoding internally tagged enums *tag first*.
//!
//! serde's derived decoder for `#[serde(tag = "…")]` enums cannot know where the tag is, so it
//! first copies the whole object into a generic buffer and then decodes the variant from that
//! buffer. That second decoder is generated again for every type nested inside, and in the
//! visitor's widget this machinery was about an eighth of the WASM. Our own serializer (serde's
//! derived one) always writes the tag as the first field, so [`tag_first_deserialize!`] decodes
//! straight from the input: it reads the first field, which must be the tag, and hands the
//! remaining fields to the variant. An object whose first field is not the tag is refused with a
//! clear error. Use it only for types that the server writes and the browser reads, never for
//! input written by hand or by third parties.
//!
//! Variant field lists are checked by the compiler against the enum (each is built with every
//! field named); a variant left out of the list is caught by the round-trip tests.

/// `tag_first_deserialize! { Enum, tag "key"; "name" => Variant { field: Type, … }, …; "name" => UnitVariant, … }`
/// implements `Deserialize` for `Enum` (see the module documentation). Either list may be empty.
/// The calling crate needs `serde` (with `derive`) as a dependency.
#[macro_export]
macro_rules! tag_first_deserialize {
    (
        $enum:ident, tag $key:literal;
        $($name:literal => $variant:ident { $($field:ident: $ty:ty),* }),*;
        $($unit_name:literal => $unit:ident),*
    ) => {
        impl<'de> serde::Deserialize<'de> for $enum {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct TagFirst;
                impl<'de> serde::de::Visitor<'de> for TagFirst {
                    type Value = $enum;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str(concat!("an object whose first field is `", $key, "`"))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$enum, A::Error> {
                        if map.next_key::<String>()?.as_deref() != Some($key) {
                            return Err(serde::de::Error::custom(concat!("the first field must be `", $key, "`")));
                        }
                        let tag: String = map.next_value()?;
                        #[allow(unused_imports)]
                        use serde::de::value::MapAccessDeserializer;
                        match tag.as_str() {
                            $($name => {
                                #[derive(serde::Deserialize)]
                                struct Fields { $($field: $ty),* }
                                let f = <Fields as serde::Deserialize>::deserialize(MapAccessDeserializer::new(map))?;
                                Ok($enum::$variant { $($field: f.$field),* })
                            })*
                            $($unit_name => {
                                <serde::de::IgnoredAny as serde::Deserialize>::deserialize(MapAccessDeserializer::new(map))?;
                                Ok($enum::$unit)
                            })*
                            other => Err(serde::de::Error::unknown_variant(other, &[$($name,)* $($unit_name,)*])),
                        }
                    }
                }
                deserializer.deserialize_map(TagFirst)
            }
        }
    };
}
