import type { IcebergValue } from './iceberg-value.js'

/**
 * What a data or delete file holds: 0 data, 1 position deletes, 2 equality deletes.
 */
export type FileContent = 0 | 1 | 2

/**
 * A data file or delete file entry of a manifest (the `data_file` struct), plain data.
 * Metrics maps are keyed by column field id; bounds use Iceberg's binary single-value encoding.
 */
export interface DataFile {
  readonly content: FileContent
  readonly filePath: string
  readonly fileFormat: string
  /** Partition values keyed by partition field id. */
  readonly partition: ReadonlyMap<number, IcebergValue>
  readonly recordCount: number
  readonly fileSizeInBytes: number
  readonly columnSizes?: ReadonlyMap<number, number>
  readonly valueCounts?: ReadonlyMap<number, number>
  readonly nullValueCounts?: ReadonlyMap<number, number>
  readonly nanValueCounts?: ReadonlyMap<number, number>
  readonly lowerBounds?: ReadonlyMap<number, Uint8Array>
  readonly upperBounds?: ReadonlyMap<number, Uint8Array>
  readonly keyMetadata?: Uint8Array
  readonly splitOffsets?: readonly bigint[]
  readonly equalityIds?: readonly number[]
  readonly sortOrderId?: number
  readonly referencedDataFile?: string
}

/**
 * Status of a manifest entry: 0 existing, 1 added, 2 deleted.
 */
export type EntryStatus = 0 | 1 | 2

/**
 * One manifest entry as stored: sequence numbers and snapshot id may be absent (inherited from the manifest list).
 */
export interface ManifestEntry {
  readonly status: EntryStatus
  readonly snapshotId?: bigint
  readonly sequenceNumber?: number
  readonly fileSequenceNumber?: number
  readonly dataFile: DataFile
}

/**
 * A manifest entry after sequence-number and snapshot-id inheritance.
 */
export interface ResolvedEntry {
  readonly status: EntryStatus
  readonly snapshotId: bigint
  readonly sequenceNumber: number
  readonly fileSequenceNumber: number
  readonly dataFile: DataFile
  /** The spec the file was written with. */
  readonly specId: number
}

/**
 * A partition field summary of a manifest list entry.
 */
export interface FieldSummary {
  readonly containsNull: boolean
  readonly containsNan?: boolean
  readonly lowerBound?: Uint8Array
  readonly upperBound?: Uint8Array
}

/**
 * One entry of a manifest list (the `manifest_file` struct).
 */
export interface ManifestFile {
  readonly manifestPath: string
  readonly manifestLength: number
  readonly partitionSpecId: number
  /** 0 data, 1 deletes. */
  readonly content: 0 | 1
  readonly sequenceNumber: number
  readonly minSequenceNumber: number
  readonly addedSnapshotId: bigint
  readonly addedFilesCount: number
  readonly existingFilesCount: number
  readonly deletedFilesCount: number
  readonly addedRowsCount: number
  readonly existingRowsCount: number
  readonly deletedRowsCount: number
  readonly partitions?: readonly FieldSummary[]
  readonly keyMetadata?: Uint8Array
}
