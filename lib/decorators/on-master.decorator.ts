import { SetMetadata } from '@nestjs/common';
import type { OnMasterOptions } from '../interfaces/kettle-module-options.interface.js';
import { ON_MASTER_METADATA } from '../kettle.constants.js';

export interface OnMasterMetadata {
  readonly name: string;
  readonly options: OnMasterOptions;
}

/**
 * Runs the method on the node that holds election `name`, once every interval, with a
 * MasterContext as its first argument. Methods that share a name share one election.
 */
export const OnMaster = (name: string, options: OnMasterOptions = {}): MethodDecorator =>
  SetMetadata<string, OnMasterMetadata>(ON_MASTER_METADATA, { name, options });
