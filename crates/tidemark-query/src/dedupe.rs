//! `DedupeExec`: the merge of chunks whose time ranges overlap, so that a point written twice
//! (same series, same time) is returned once, field by field the newest value winning.
//!
//! Its children are the chunks, oldest write first, and that order is the whole point: the
//! merge gathers every child's rows in child order and hands them to the engine's
//! [`sort_dedupe`], the same function persistence uses, so a query and a persisted file always
//! agree on which value won. The children may be split into partitions by DataFusion; that is
//! harmless, because a chunk never holds two versions of a point that the merge must order
//! (Parquet files are de-duplicated when written, and a buffer chunk is one batch).

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties,
    Partitioning, PhysicalExpr, PlanProperties, ReplaceChildrenOptions, SendableRecordBatchStream,
};
use futures::StreamExt;
use tidemark_storage::dedupe::sort_dedupe;

use crate::error::external;

/// Merges its children (chunks, oldest write first) into de-duplicated rows.
#[derive(Debug)]
pub(crate) struct DedupeExec {
    children: Vec<Arc<dyn ExecutionPlan>>,
    /// What every child produces: the query's columns plus every tag and `time`.
    input_schema: SchemaRef,
    /// The series key: tag column names, then `time` is added by `sort_dedupe`.
    sort_key: Vec<String>,
    /// Positions in `input_schema` of the columns the query asked for, in its order.
    output: Vec<usize>,
    properties: Arc<PlanProperties>,
}

impl DedupeExec {
    pub(crate) fn try_new(
        children: Vec<Arc<dyn ExecutionPlan>>,
        input_schema: SchemaRef,
        sort_key: Vec<String>,
        output: Vec<usize>,
    ) -> Result<Self> {
        let output_schema = Arc::new(input_schema.project(&output)?);
        let properties = PlanProperties::new(
            EquivalenceProperties::new(output_schema),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        Ok(Self {
            children,
            input_schema,
            sort_key,
            output,
            properties: Arc::new(properties),
        })
    }
}

impl DisplayAs for DedupeExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DedupeExec: chunks={}, key=[{}]",
            self.children.len(),
            self.sort_key.join(", ")
        )
    }
}

impl ExecutionPlan for DedupeExec {
    fn name(&self) -> &str {
        "DedupeExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.children.iter().collect()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    // Extra parallelism would only reshuffle rows that are all gathered anyway.
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false; self.children.len()]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false; self.children.len()]
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != self.children.len() {
            return Err(DataFusionError::Internal(format!(
                "DedupeExec has {} chunks, got {} children",
                self.children.len(),
                children.len()
            )));
        }
        Ok(Arc::new(Self {
            children,
            input_schema: Arc::clone(&self.input_schema),
            sort_key: self.sort_key.clone(),
            output: self.output.clone(),
            properties: Arc::clone(&self.properties),
        }))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "DedupeExec has one partition, asked for {partition}"
            )));
        }
        let children = self.children.clone();
        let input_schema = Arc::clone(&self.input_schema);
        let sort_key = self.sort_key.clone();
        let output = self.output.clone();
        let output_schema = self.schema();
        let batch_size = context.session_config().batch_size().max(1);
        let merged = async move {
            let mut batches = Vec::new();
            for child in children {
                for p in 0..child.output_partitioning().partition_count() {
                    let mut stream = child.execute(p, Arc::clone(&context))?;
                    while let Some(batch) = stream.next().await {
                        // Same columns; the rebuild only makes the schemas (metadata) identical,
                        // which concatenation requires.
                        let batch = batch?;
                        batches.push(RecordBatch::try_new(
                            Arc::clone(&input_schema),
                            batch.columns().to_vec(),
                        )?);
                    }
                }
            }
            let key: Vec<&str> = sort_key.iter().map(String::as_str).collect();
            let merged = sort_dedupe(&input_schema, &key, &batches).map_err(external)?;
            let merged = merged.project(&output)?;
            let slices: Vec<Result<RecordBatch>> = (0..merged.num_rows())
                .step_by(batch_size)
                .map(|offset| Ok(merged.slice(offset, batch_size.min(merged.num_rows() - offset))))
                .collect();
            Ok::<_, DataFusionError>(futures::stream::iter(slices))
        };
        let stream = futures::stream::once(merged).map(|r| match r {
            Ok(slices) => slices.boxed(),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            output_schema,
            stream.flatten(),
        )))
    }
}
