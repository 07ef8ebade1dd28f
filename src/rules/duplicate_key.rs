use crate::diagnostic::Finding;
use crate::lint::context::Context;
use crate::manifest::model::Platform;

declare_rule! {
    /// ## What it does
    /// Flags a key written twice in one mapping of a Kubernetes object or a compose file,
    /// at the second one, with the first as a related place. Two objects in one file
    /// without `---` between them (`cat a.yaml b.yaml`) are one mapping whose
    /// `apiVersion`, `kind` and `metadata` are all repeated.
    ///
    /// ## Why is this bad?
    /// The tools disagree about what the mapping means, and none keeps both values:
    /// - `kubectl apply` and `kubectl create` refuse the object: since Kubernetes 1.27
    ///   their `--validate` defaults to `strict`, which asks the API server for strict
    ///   field validation, and a duplicate field fails the request (`--validate=warn`
    ///   only warns; `--validate=false` drops one value silently). `kubectl apply -k`
    ///   and `kustomize build` fail while reading the file ("mapping key "env" already
    ///   defined at line 12").
    /// - With `--validate=false`, with kubectl before 1.27, and with any tool that
    ///   decodes leniently (go-yaml's default), the last value wins without a word. A
    ///   reviewer reads the first; what runs is the second: a container's first
    ///   `envFrom` is dropped, and with it every variable it brought.
    /// - Docker Compose (compose-go, go-yaml v3) refuses the file: "mapping key
    ///   "environment" already defined".
    ///
    /// A deploy that fails under the default settings is an error, not a warning.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: klines
    ///   envFrom:
    ///   - configMapRef: {name: petrosa-common-config}
    ///   envFrom:
    ///   - secretRef: {name: petrosa-sensitive-credentials}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    /// - name: klines
    ///   envFrom:
    ///   - configMapRef: {name: petrosa-common-config}
    ///   - secretRef: {name: petrosa-sensitive-credentials}
    /// ```
    pub(crate) static RULE = {
        code: "ND310",
        name: "duplicate-key",
        severity: Error,
        summary: "a key written twice in one mapping; kubectl refuses it, older decoders keep the last",
        check: check,
    };
}

/// Keys that every object starts with: repeated at the top of a document, they mean two
/// objects were joined without `---`.
const OBJECT_KEYS: [&str; 2] = ["apiVersion", "kind"];

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for duplicate in &ctx.inventory.duplicate_keys {
        if duplicate
            .object
            .as_ref()
            .is_some_and(|object| object.ignores(RULE.code, RULE.name))
        {
            continue;
        }
        let consequence = match duplicate.platform {
            Platform::Compose => "docker compose refuses the file",
            _ => "kubectl refuses the object and older decoders keep only the last value",
        };
        let message = format!(
            "key `{}` is written again in this mapping (first at line {}); {consequence}",
            duplicate.key, duplicate.first.line
        );
        let mut finding = RULE.finding(duplicate.location.clone(), duplicate.width, message);
        finding.object = duplicate
            .object
            .as_ref()
            .map(|object| object.reference(duplicate.platform));
        finding.help = Some(if OBJECT_KEYS.contains(&duplicate.key.as_str()) {
            "two objects are joined in one document: put a line `---` between them".to_string()
        } else {
            format!(
                "keep one `{}` and merge the two values into it",
                duplicate.key
            )
        });
        finding.hide_source = duplicate.secret_data;
        finding.relate(&duplicate.first, "first defined here");
        out.push(finding);
    }
}
