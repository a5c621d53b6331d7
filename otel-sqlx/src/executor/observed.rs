//! A query taken apart so that its text can be read before it runs, then
//! handed to the driver unchanged.

use sqlx::error::BoxDynError;
use sqlx::{Arguments, Database, Execute, SqlStr};

use crate::annotation::Annotation;
use crate::database::InstrumentedDatabase;
use crate::shared::Shared;
use crate::telemetry::operation::QueryDescription;

/// Everything [`Execute`] gives, owned: the text, a prepared statement if
/// the query had one, the bound arguments (or the error binding them) and
/// the caching flag. Executes exactly like the query it came from.
pub(crate) struct ObservedQuery<DB: Database> {
    sql: SqlStr,
    statement: Option<DB::Statement>,
    arguments: Option<Result<Option<DB::Arguments>, BoxDynError>>,
    persistent: bool,
}

impl<DB: Database> ObservedQuery<DB> {
    pub(crate) fn new<'q, E: Execute<'q, DB>>(mut query: E) -> Self {
        let arguments = Some(query.take_arguments());
        let statement = query.statement().cloned();
        let persistent = query.persistent();
        ObservedQuery {
            sql: query.sql(),
            statement,
            arguments,
            persistent,
        }
    }

    pub(crate) fn sql(&self) -> &str {
        self.sql.as_str()
    }

    /// Whether values are bound to parameters: then the text is recorded as
    /// is, otherwise its literals are replaced (the conventions' rule).
    pub(crate) fn is_parameterized(&self) -> bool {
        matches!(&self.arguments, Some(Ok(Some(arguments))) if arguments.len() > 0)
    }
}

impl<DB: InstrumentedDatabase> ObservedQuery<DB> {
    /// What the span says about this query.
    pub(crate) fn describe(
        &self,
        shared: &Shared<DB>,
        annotation: Option<&Annotation>,
    ) -> QueryDescription {
        let config = &shared.config.text;
        let analysis = shared.analyses.get(self.sql(), config);
        let text = if annotation.is_some_and(|a| a.omit_query_text) {
            None
        } else {
            analysis.query_text(self.sql(), self.is_parameterized(), config)
        };
        QueryDescription { analysis, text }
    }
}

impl<'q, DB: Database> Execute<'q, DB> for ObservedQuery<DB> {
    fn sql(self) -> SqlStr {
        self.sql
    }

    fn statement(&self) -> Option<&DB::Statement> {
        self.statement.as_ref()
    }

    fn take_arguments(&mut self) -> Result<Option<DB::Arguments>, BoxDynError> {
        self.arguments.take().unwrap_or(Ok(None))
    }

    fn persistent(&self) -> bool {
        self.persistent
    }
}
