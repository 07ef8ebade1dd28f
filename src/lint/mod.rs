//! What the rules look at: the context built from an inventory (sites, resolved
//! environments), the topology of the cluster the input describes, references and
//! addresses. Analysis only, below the rules: `rules::run` builds a context and runs
//! the rules over it.

pub(crate) mod addresses;
pub mod context;
pub(crate) mod grouped;
pub(crate) mod namespaces;
pub mod refs;
pub mod resolve;
pub(crate) mod topology;
