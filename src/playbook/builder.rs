//! Playbooks in code: `Playbook::on("user.invited").threshold(2).within(..).by(..).respond(..)`.
//!
//! The builder checks exactly what the rules document checks (same limits, same messages), so a
//! playbook is valid whichever way it was written. Errors surface from
//! [`PlaybookBuilder::build`] or from the agent builder, never as a panic.

use std::time::Duration;

use super::model::{
    validate_event_name, validate_id, validate_lifetime, validate_name, validate_period,
    validate_redirect_url, validate_threshold, ActorKind, EventPattern, IpFilter, Notification,
    Playbook, ResponseAction, Trigger,
};
use crate::duration::Lifetime;
use crate::error::{Error, Result};

impl Playbook {
    /// Starts a playbook counting `event` (a name, or a prefix ending in `.*`). Defaults: threshold
    /// 1, within 1 minute, by IP, no response, default notification, id derived from the event.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sqreen::playbook::{ActorKind, Playbook, ResponseAction};
    /// let playbook = Playbook::on("user.invited")
    ///     .threshold(2)
    ///     .within(Duration::from_secs(300))
    ///     .by(ActorKind::User)
    ///     .respond(ResponseAction::block_for(Duration::from_secs(3600)))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(playbook.id, "user.invited-user");
    /// ```
    pub fn on(event: &str) -> PlaybookBuilder {
        PlaybookBuilder {
            id: None,
            name: None,
            event: event.to_owned(),
            threshold: 1,
            period: Duration::from_secs(60),
            actor: ActorKind::Ip,
            response: ResponseAction::None,
            notification: Notification::default(),
            enabled: true,
            filter: None,
        }
    }
}

impl ResponseAction {
    /// No response: the playbook only notifies.
    pub fn none() -> Self {
        ResponseAction::None
    }

    /// Block the actor for `duration`.
    pub fn block_for(duration: Duration) -> Self {
        ResponseAction::Block {
            lifetime: Lifetime::For(duration),
        }
    }

    /// Block the actor for good.
    pub fn block_permanently() -> Self {
        ResponseAction::Block {
            lifetime: Lifetime::Permanent,
        }
    }

    /// Redirect the actor to `url` for `duration`.
    pub fn redirect_for(url: &str, duration: Duration) -> Self {
        ResponseAction::Redirect {
            url: url.to_owned(),
            lifetime: Lifetime::For(duration),
        }
    }

    /// Redirect the actor to `url` for good.
    pub fn redirect_permanently(url: &str) -> Self {
        ResponseAction::Redirect {
            url: url.to_owned(),
            lifetime: Lifetime::Permanent,
        }
    }
}

/// A playbook being written in code; see [`Playbook::on`].
#[derive(Debug, Clone)]
#[must_use]
pub struct PlaybookBuilder {
    id: Option<String>,
    name: Option<String>,
    event: String,
    threshold: u32,
    period: Duration,
    actor: ActorKind,
    response: ResponseAction,
    notification: Notification,
    enabled: bool,
    filter: Option<IpFilter>,
}

impl PlaybookBuilder {
    /// The playbook's id (`[A-Za-z0-9_.-]`, at most 64 characters).
    pub fn id(mut self, id: &str) -> Self {
        self.id = Some(id.to_owned());
        self
    }

    /// A human name (defaults to the id).
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// How many events fire the playbook.
    pub fn threshold(mut self, threshold: u32) -> Self {
        self.threshold = threshold;
        self
    }

    /// The period the events are counted in.
    pub fn within(mut self, period: Duration) -> Self {
        self.period = period;
        self
    }

    /// Whom the events are counted for.
    pub fn by(mut self, actor: ActorKind) -> Self {
        self.actor = actor;
        self
    }

    /// What happens to the actor when the playbook fires.
    pub fn respond(mut self, response: ResponseAction) -> Self {
        self.response = response;
        self
    }

    /// Who is told, and how often.
    pub fn notify(mut self, notification: Notification) -> Self {
        self.notification = notification;
        self
    }

    /// Counts only the events whose client IP the IP intelligence says this of (the rules
    /// document's `where`): e.g. `IpFilter { is_tor: Some(true), ..Default::default() }`.
    pub fn only_from(mut self, filter: IpFilter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Whether the playbook runs (default true).
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Checks everything and returns the playbook.
    pub fn build(self) -> Result<Playbook> {
        let id = self.id.clone().unwrap_or_else(|| {
            let event: String = self
                .event
                .replace(".*", ".any")
                .chars()
                .map(|c| if c == ':' { '_' } else { c })
                .collect();
            format!("{event}-{}", self.actor)
        });
        let at = |field: &str| format!("playbook {id:?}: {field}");
        validate_event_name(self.event.trim_end_matches(".*"))
            .map_err(|e| Error::rules(at("trigger.event"), e))?;
        let event =
            EventPattern::parse(&self.event).map_err(|e| Error::rules(at("trigger.event"), e))?;
        validate_id(&id).map_err(|e| Error::rules(at("id"), e))?;
        let name = self.name.unwrap_or_else(|| id.clone());
        validate_name(&name).map_err(|e| Error::rules(at("name"), e))?;
        let threshold = validate_threshold(i64::from(self.threshold))
            .map_err(|e| Error::rules(at("trigger.threshold"), e))?;
        validate_period(self.period).map_err(|e| Error::rules(at("trigger.period"), e))?;
        let filter = match self.filter {
            Some(filter) => Some(filter.validate().map_err(|(key, reason)| {
                let place = if key.is_empty() {
                    at("trigger.where")
                } else {
                    at(&format!("trigger.where.{key}"))
                };
                Error::rules(place, reason)
            })?),
            None => None,
        };
        if let Some(lifetime) = self.response.lifetime() {
            validate_lifetime(lifetime).map_err(|e| Error::rules(at("response.duration"), e))?;
        }
        if let ResponseAction::Redirect { url, .. } = &self.response {
            validate_redirect_url(url).map_err(|e| Error::rules(at("response.url"), e))?;
        }
        Ok(Playbook {
            id,
            name,
            enabled: self.enabled,
            trigger: Trigger {
                event,
                threshold,
                period: self.period,
                actor: self.actor,
                filter,
            },
            response: self.response,
            notification: self.notification,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_issue_example() {
        let p = Playbook::on("user.invited")
            .threshold(2)
            .within(Duration::from_secs(300))
            .by(ActorKind::User)
            .respond(ResponseAction::block_for(Duration::from_secs(60)))
            .build()
            .unwrap();
        assert_eq!(p.id, "user.invited-user");
        assert_eq!(p.trigger.threshold, 2);
        assert!(p.enabled);
        let any = Playbook::on("app.sqreen.attack.*").build().unwrap();
        assert_eq!(any.id, "app.sqreen.attack.any-ip");
        assert!(any.trigger.event.matches("app.sqreen.attack.sqli"));
    }

    #[test]
    fn invalid_values_are_errors_naming_the_field() {
        let cases = [
            (Playbook::on("x").threshold(0), "trigger.threshold"),
            (Playbook::on("x").within(Duration::ZERO), "trigger.period"),
            (
                Playbook::on("x").within(Duration::from_secs(90 * 86_400)),
                "trigger.period",
            ),
            (Playbook::on(""), "trigger.event"),
            (Playbook::on("bad name"), "trigger.event"),
            (Playbook::on("x").id("no spaces"), "id"),
            (
                Playbook::on("x").respond(ResponseAction::redirect_for(
                    "javascript:x",
                    Duration::from_secs(1),
                )),
                "response.url",
            ),
            (
                Playbook::on("x").respond(ResponseAction::block_for(Duration::ZERO)),
                "response.duration",
            ),
        ];
        for (builder, field) in cases {
            let err = builder.build().unwrap_err();
            assert!(err.place().unwrap().ends_with(field), "{err}");
        }
    }
}
