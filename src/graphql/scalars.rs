use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// A 64-bit signed integer (GraphQL's `Int` has 32 bits: too few for file
/// sizes). Sent as a JSON number, exact up to 2^53; accepted as a number or a
/// decimal string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Int64(pub i64);

#[Scalar(name = "Int64")]
impl ScalarType for Int64 {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => n.as_i64().map(Int64).ok_or_else(|| InputValueError::custom("not a 64-bit integer")),
            Value::String(s) => {
                s.trim().parse().map(Int64).map_err(|_| InputValueError::custom("not a 64-bit integer"))
            }
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.into())
    }
}
