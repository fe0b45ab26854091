// Exports a fitted gradient-boosted trees model as one ai.onnx.ml TreeEnsembleClassifier or TreeEnsembleRegressor node.
import { ValidationError } from '../errors.js';
import { classCount, type GbdtModel } from '../training/gbdt/model.js';
import type { Tree } from '../training/gbdt/tree.js';
import type { ModelSignature } from '../training/types.js';
import { encodeModel, INPUT_NAME, LABEL, node, ONNX_ML_DOMAIN, PREDICTION, PROBABILITIES, tensorInfo } from './builder.js';

export interface TreeEnsembleExportOptions {
  /** Feature names, one per model input column. */
  features: string[];
  /** Classifiers: labels in probability-column order; default the class indices 0, 1, ... */
  classes?: Array<string | number>;
  /** Extra metadata_props (e.g. dataset version); keep it content-derived so reruns give identical bytes. */
  metadata?: Record<string, unknown>;
}

/** The node attributes of a whole ensemble, one entry per node and one per leaf. */
interface Flat {
  treeIds: number[];
  nodeIds: number[];
  featureIds: number[];
  modes: string[];
  values: number[];
  trueIds: number[];
  falseIds: number[];
  missingTrue: number[];
  leafTreeIds: number[];
  leafNodeIds: number[];
  leafTargets: number[];
  leafWeights: number[];
}

/** Appends one tree with node ids in preorder, root 0; BRANCH_LEQ's true branch is our left child. */
function appendTree(out: Flat, tree: Tree, treeId: number, target: number): void {
  let nextId = 0;
  const visit = (ref: number): number => {
    const id = nextId++;
    const at = out.nodeIds.length;
    out.treeIds.push(treeId);
    out.nodeIds.push(id);
    out.trueIds.push(0);
    out.falseIds.push(0);
    if (ref < 0) {
      out.featureIds.push(0);
      out.modes.push('LEAF');
      out.values.push(0);
      out.missingTrue.push(0);
      out.leafTreeIds.push(treeId);
      out.leafNodeIds.push(id);
      out.leafTargets.push(target);
      out.leafWeights.push(tree.leafValue[~ref]);
      return id;
    }
    out.featureIds.push(tree.feature[ref]);
    out.modes.push('BRANCH_LEQ');
    out.values.push(tree.threshold[ref]);
    out.missingTrue.push(tree.missingLeft[ref] ? 1 : 0);
    out.trueIds[at] = visit(tree.left[ref]);
    out.falseIds[at] = visit(tree.right[ref]);
    return id;
  };
  visit(tree.feature.length > 0 ? 0 : ~0);
}

/**
 * A tree that adds exactly 0 to every row: its -1 leaf sits behind
 * "x <= +Infinity, NaN goes true", which nothing fails. onnxruntime decides a
 * binary label by score > 0.5 instead of score > 0 when no class weight is
 * negative; one negative weight restores the log-odds rule.
 */
const NEUTRAL_NEGATIVE_TREE: Tree = {
  feature: [0],
  bin: [0],
  threshold: [Infinity],
  missingLeft: [true],
  left: [~0],
  right: [~1],
  gain: [0],
  leafValue: [0, -1],
};

function flatten(model: GbdtModel): Flat {
  const out: Flat = {
    treeIds: [],
    nodeIds: [],
    featureIds: [],
    modes: [],
    values: [],
    trueIds: [],
    falseIds: [],
    missingTrue: [],
    leafTreeIds: [],
    leafNodeIds: [],
    leafTargets: [],
    leafWeights: [],
  };
  // Tree order is the order onnxruntime sums in, and the order predictRaw mirrors.
  model.trees.forEach((tree, t) => appendTree(out, tree, t, t % model.numOutputs));
  if (model.objective === 'binary' && !out.leafWeights.some((w) => w < 0)) appendTree(out, NEUTRAL_NEGATIVE_TREE, model.trees.length, 0);
  return out;
}

function resolveClasses(model: GbdtModel, given: Array<string | number> | undefined): Array<string | number> {
  const k = classCount(model);
  const classes = given ?? Array.from({ length: k }, (_, i) => i);
  if (classes.length !== k) throw new ValidationError(`The ${model.objective} model has ${k} classes but ${classes.length} class labels were given.`);
  const strings = classes.every((c) => typeof c === 'string');
  if (!strings && !classes.every((c) => Number.isInteger(c))) {
    throw new ValidationError(`Class labels must be all strings or all integers (ONNX classlabels_strings / classlabels_int64s); got ${JSON.stringify(classes)}.`);
  }
  return classes;
}

export function treeEnsembleSignature(model: GbdtModel, opts: TreeEnsembleExportOptions): ModelSignature {
  const features = opts.features.map((name) => ({ name, type: 'float' as const }));
  if (model.objective === 'regression') {
    // ModelSignature is shaped for classifiers: a regressor exposes its one output as both, with one pseudo-class column.
    return { inputName: INPUT_NAME, features, outputs: { label: PREDICTION, probabilities: PREDICTION }, classes: [PREDICTION] };
  }
  return { inputName: INPUT_NAME, features, outputs: { label: LABEL, probabilities: PROBABILITIES }, classes: resolveClasses(model, opts.classes) };
}

/**
 * Encodes the ensemble. Classifiers output `label` [N] and `probabilities`
 * [N, classes] (binary: [P(class 0), P(class 1)], as the linear export);
 * regressors output `prediction` [N, 1]. Deterministic bytes.
 */
export function exportTreeEnsemble(model: GbdtModel, opts: TreeEnsembleExportOptions): Uint8Array {
  if (opts.features.length !== model.numFeatures) {
    throw new ValidationError(`The model takes ${model.numFeatures} features but ${opts.features.length} feature names were given.`);
  }
  const signature = treeEnsembleSignature(model, opts);
  const flat = flatten(model);
  const nodeAttrs = {
    nodes_treeids: { ints: flat.treeIds },
    nodes_nodeids: { ints: flat.nodeIds },
    nodes_featureids: { ints: flat.featureIds },
    nodes_modes: flat.modes,
    nodes_values: { floats: flat.values },
    nodes_truenodeids: { ints: flat.trueIds },
    nodes_falsenodeids: { ints: flat.falseIds },
    nodes_missing_value_tracks_true: { ints: flat.missingTrue },
    base_values: { floats: model.baseScores },
  };
  const metadata = { ...opts.metadata, 'mlcycle.signature': signature, 'mlcycle.gbdt': { objective: model.objective, rounds: model.rounds } };
  const input = tensorInfo(INPUT_NAME, 'float', [-1, model.numFeatures]);

  if (model.objective === 'regression') {
    const regressor = node(
      'TreeEnsembleRegressor',
      [INPUT_NAME],
      [PREDICTION],
      {
        ...nodeAttrs,
        target_treeids: { ints: flat.leafTreeIds },
        target_nodeids: { ints: flat.leafNodeIds },
        target_ids: { ints: flat.leafTargets },
        target_weights: { floats: flat.leafWeights },
        n_targets: 1,
        aggregate_function: 'SUM',
        post_transform: 'NONE',
      },
      ONNX_ML_DOMAIN,
    );
    return encodeModel({
      graphName: 'mlcycle_gbdt_regressor',
      nodes: [regressor],
      inputs: [input],
      outputs: [tensorInfo(PREDICTION, 'float', [-1, 1])],
      metadata,
    });
  }

  const classes = signature.classes;
  const stringLabels = typeof classes[0] === 'string';
  const classifier = node(
    'TreeEnsembleClassifier',
    [INPUT_NAME],
    [LABEL, PROBABILITIES],
    {
      ...nodeAttrs,
      class_treeids: { ints: flat.leafTreeIds },
      class_nodeids: { ints: flat.leafNodeIds },
      class_ids: { ints: flat.leafTargets },
      class_weights: { floats: flat.leafWeights },
      // Binary: every leaf votes for class 0 with the log-odds of class 1; onnxruntime then emits [sigmoid(-s), sigmoid(s)].
      post_transform: model.objective === 'binary' ? 'LOGISTIC' : 'SOFTMAX',
      ...(stringLabels ? { classlabels_strings: classes as string[] } : { classlabels_int64s: { ints: classes as number[] } }),
    },
    ONNX_ML_DOMAIN,
  );
  return encodeModel({
    graphName: `mlcycle_gbdt_${model.objective}`,
    nodes: [classifier],
    inputs: [input],
    outputs: [tensorInfo(LABEL, stringLabels ? 'string' : 'int64', [-1]), tensorInfo(PROBABILITIES, 'float', [-1, classes.length])],
    metadata,
  });
}
