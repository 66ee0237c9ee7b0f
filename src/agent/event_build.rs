//! Building an [`Event`] from what the agent knows: the request context, the subject, the
//! properties; redacted and bounded as it is built (the request part keeps shared references and
//! redaction decisions, see `summary`).

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::{AgentInner, UserRef};
use crate::clock::Millis;
use crate::context::RequestContext;
use crate::event::{Event, IpMeta, RequestSummary};
use crate::ip::ip_metadata;

impl AgentInner {
    /// A redacted event about `ip` and `user`, in the request of `ctx` if any.
    pub(crate) fn build_event(
        &self,
        name: &str,
        mut properties: Map<String, Value>,
        ctx: Option<&RequestContext>,
        ip: Option<IpAddr>,
        user: Option<UserRef<'_>>,
        now: Millis,
    ) -> Event {
        self.redactor.map(&mut properties);
        let user = user.map(|u| {
            let mut keys = match u {
                UserRef::Keys(keys) => keys
                    .iter()
                    .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
                    .collect(),
                UserRef::Id(id) => {
                    let mut m = Map::new();
                    m.insert("id".to_owned(), Value::String(id.to_owned()));
                    m
                }
            };
            // an anonymized id is a salted hash: nothing in it to redact
            if !self.users.is_anonymized() {
                self.redactor.map(&mut keys);
            }
            keys
        });
        Event {
            name: name.to_owned(),
            timestamp: now,
            request: ctx.map(|ctx| self.request_summary(ctx)),
            trace_id: ctx
                .and_then(|ctx| ctx.inner().trace_id)
                .map(|t| t.to_string()),
            properties,
            client_ip: ip,
            user,
            ip_meta: ip.map(|address| {
                let facts = self
                    .intel
                    .as_ref()
                    .map(|intel| intel.lookup(address))
                    .unwrap_or_default();
                IpMeta {
                    address,
                    critical: self.critical.is_critical(address),
                    metadata: ip_metadata(address),
                    is_tor: facts.is_tor,
                    datacenter: facts.datacenter,
                    provider: facts.provider.as_deref().map(str::to_owned),
                    geo: facts.geo,
                    asn: facts.asn,
                }
            }),
        }
    }

    fn request_summary(&self, ctx: &RequestContext) -> RequestSummary {
        let inner = ctx.inner();
        RequestSummary::new(
            inner.rid,
            &inner.method,
            &inner.uri,
            &inner.headers,
            inner.peer,
            inner.body.get().cloned(),
            self.redactor.clone(),
        )
    }
}
