//! What a job produces: one variant per processor, stored as JSON in the
//! job's row and exposed as the GraphQL `JobResult` union.

use serde::{Deserialize, Serialize};

use crate::profile::{FileSummary, TableProfile};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum JobOutput {
    TableProfile(TableProfile),
    FileSummary(FileSummary),
}

#[cfg(test)]
mod tests {
    use super::JobOutput;

    /// Results exactly as Loupe stored them, one per processor.
    const STORED: [&str; 2] = [
        include_str!("../../tests/fixtures/stored-results/table-profile-2026-11.json"),
        include_str!("../../tests/fixtures/stored-results/file-summary-2026-11.json"),
    ];

    /// Every stored field is still a field (floats may differ in the last
    /// digit: serde_json parses them fast, not exactly).
    #[test]
    fn stored_results_read_back_whole() {
        for stored in STORED {
            let output: JobOutput = serde_json::from_str(stored).expect("a stored result reads");
            let mut before = Vec::new();
            object_paths(&serde_json::from_str(stored).unwrap(), &mut Vec::new(), &mut before);
            let mut after = Vec::new();
            object_paths(&serde_json::to_value(&output).unwrap(), &mut Vec::new(), &mut after);
            assert_eq!(before, after);
        }
    }

    /// Each field left out in turn, everywhere it occurs, as in a result
    /// stored before that field was added: the result still reads.
    #[test]
    fn results_stored_before_a_field_existed_read() {
        for stored in STORED {
            let value: serde_json::Value = serde_json::from_str(stored).unwrap();
            let mut paths = Vec::new();
            object_paths(&value, &mut Vec::new(), &mut paths);
            assert!(paths.len() > 3);
            for path in paths {
                if path == ["kind"] {
                    continue;
                }
                let mut without = value.clone();
                remove(&mut without, &path);
                if let Err(err) = serde_json::from_value::<JobOutput>(without) {
                    panic!("a result without {path:?} is unreadable: {err}");
                }
            }
        }
    }

    /// The path of every key of every object, arrays as their first element.
    fn object_paths(value: &serde_json::Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, child) in map {
                    prefix.push(key.clone());
                    out.push(prefix.clone());
                    object_paths(child, prefix, out);
                    prefix.pop();
                }
            }
            serde_json::Value::Array(items) => {
                if let Some(first) = items.first() {
                    prefix.push("0".into());
                    object_paths(first, prefix, out);
                    prefix.pop();
                }
            }
            _ => {}
        }
    }

    fn remove(value: &mut serde_json::Value, path: &[String]) {
        let (last, parents) = path.split_last().unwrap();
        let mut target = value;
        for step in parents {
            target = match target {
                serde_json::Value::Array(items) => &mut items[0],
                other => &mut other[step.as_str()],
            };
        }
        target.as_object_mut().unwrap().remove(last);
    }
}
