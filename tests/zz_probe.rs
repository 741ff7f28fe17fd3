#[test]
fn probe() {
    for t in [
        "name: a/b\nversion: 1.0.0\nkind: vla: x\n",
        "name: a/b\nversion: 1.0.0\nkind: [vla\nchunk_size: 1\n",
        "name: a/b\n  version: 1\n",
        "name: 'abc\n",
        "a: 1\n\tb: 2\n",
        "---\nname: a\n...\n",
        "a: *x\n",
        "\u{feff}a: 1\n",
        "a: .inf\n",
        "chunk_size: 18446744073709551616\n",
    ] {
        println!("{t:?} => {:?}", rskill::yaml::load(t, false).map(|v| v.0));
    }
    let j = serde_json::to_string_pretty(&serde_json::json!({"a": [1, {"b": "c: d"}], "e": null}))
        .unwrap();
    println!("{:?}", rskill::yaml::load(&j, false).map(|v| v.0));
}
