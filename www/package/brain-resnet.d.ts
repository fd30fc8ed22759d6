// Types of the Brain-ResNet browser API (brain-resnet.js).

export interface ModelEntry {
  id: string; name: string; description: string; dtype: 'f32' | 'f16' | 'int8'; bytes: number;
  random_weights: boolean; url: string; card: string | null;
}
export function listModels(base?: URL | string): Promise<ModelEntry[]>;

export interface LoadProgress { phase: 'download' | 'cache' | 'start'; loaded: number; total: number }
export interface LoadOptions {
  /** Worker count; default navigator.hardwareConcurrency, at most 4. */
  workers?: number;
  /** 'auto' (a hardware WebGPU adapter if any, else the CPU), 'gpu' or 'cpu'. */
  backend?: 'auto' | 'gpu' | 'cpu';
  onProgress?: (p: LoadProgress) => void;
}

export interface Prediction { name: string; probs?: number[]; error?: string; warnings?: string[]; notes?: string[] }

export interface AlleleResult {
  alt: string; status: string; message?: string | null;
  /** [REF window probabilities, ALT window probabilities], one per profile; null when not scored. */
  probs: [number[], number[]] | null;
  carriers?: number | null;
}
export interface RecordResult {
  line: number; chrom: string; pos: string; id: string; reference: string;
  call?: { sample: string; genotype: string } | null;
  alleles: AlleleResult[];
}
export interface Summary {
  records: number; alleles: number; scored: number; by_status: Record<string, number>;
  aliases: [string, string][]; unknown_contigs: string[]; notes: string[];
  outside_regions: number; not_carried: number; missing_calls: number; backend: string;
  genotype_columns: 'sample' | 'carriers' | 'none'; genome_contigs: string[];
}
export interface ScoreFiles { vcf: File; fasta: File; fai?: File | null; gzi?: File | null; regions?: File | null }
export interface ScoreProgress { done: number; fraction: number; perSecond: number; secondsLeft: number | null }
export interface ScoreOptions {
  rcMean?: boolean;
  /** Score only the ALTs this sample carries (a name from vcfSamples). */
  sample?: string | null;
  onProgress?: (p: ScoreProgress) => void;
  onIndexProgress?: (p: { phase?: string; read?: number; total?: number }) => void;
  /** Alleles up to which results stay as objects in `records` (default 100,000). */
  keepInMemory?: number;
}

export interface ResultStore {
  readonly alleles: number;
  readonly records: number;
  readonly inMemory: boolean;
  statuses: string[];
  headers: string[];
  rows(indices: ArrayLike<number>): Promise<{ r: RecordResult; a: AlleleResult }[]>;
  chunkRecords(): AsyncGenerator<RecordResult[]>;
  column(f: (rows: { r: RecordResult; a: AlleleResult }[]) => ArrayLike<number>): Promise<Float64Array>;
  filter(status: string): Uint32Array;
  allRecords(): RecordResult[] | null;
}
export interface Run {
  store: ResultStore;
  /** Every record as objects, or null when the run is larger than keepInMemory. */
  records: RecordResult[] | null;
  events: ({ Header: string } | { Record: RecordResult })[] | null;
  summary: Summary;
  rcMean: boolean;
  seconds: number;
  files: ScoreFiles;
}

export class BrainResNet {
  static load(url: string, options?: LoadOptions): Promise<BrainResNet>;
  readonly manifest: { name: string; labels: string[]; genome_build: string; [k: string]: unknown };
  readonly labels: string[];
  readonly backend: { kind: 'gpu' | 'cpu'; text: string };
  readonly size: number;
  predictFasta(text: string): Promise<Prediction[]>;
  predictFastaFile(file: File): Promise<Prediction[]>;
  vcfSamples(vcf: File): Promise<{ samples: string[]; layout: string | null }>;
  scoreVcf(files: ScoreFiles, options?: ScoreOptions): Promise<Run>;
  formatRun(run: Run, format: 'tsv' | 'vcf', options?: { scores?: string; onProgress?: (fraction: number) => void }): Promise<Blob>;
  format(format: 'tsv' | 'vcf', events: Run['events'], scores?: string, rcMean?: boolean,
    options?: { columns?: 'sample' | 'carriers' | 'none'; continuing?: boolean }): Promise<string>;
  indexFasta(fasta: File, options?: { onProgress?: (p: { read: number; total: number }) => void }): Promise<File>;
  saturation(files: { fasta: File; fai?: File | null; gzi?: File | null }, chrom: string, pos: number,
    options?: { onProgress?: (p: { done: number; total: number }) => void }): Promise<unknown>;
  analyzeAll(records: RecordResult[], annotationsText: string, top?: number | null, options?: { excludeRefMismatch?: boolean }): Promise<unknown>;
  joinedRows(records: RecordResult[], annotationsText: string | null, profileIndex: number, options?: { excludeRefMismatch?: boolean }): Promise<unknown[]>;
  cancel(): void;
}

export function sortGenomeFiles(files: File[]): Partial<Record<'vcf' | 'fasta' | 'fai' | 'gzi', File>>;
export function isTwoBit(file: File): boolean;
export function countLines(file: File): Promise<number>;
export function probeWebGpu(): Promise<{ adapter: string; fallback: boolean } | { error: string }>;
/** Loads the WebAssembly core on this thread (needed before the score functions). */
export function loadCore(): Promise<unknown>;
export function scoreNames(): { name: string; description: string }[];
export function scoreValue(name: string, ref: number, alt: number): number;
export function scoreValues(name: string, refs: ArrayLike<number>, alts: ArrayLike<number>): Float64Array;
