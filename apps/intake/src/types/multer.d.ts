// Minimal typings for the part of multer (shipped with @nestjs/platform-express) that intake uses.
declare module 'multer' {
  import { RequestHandler } from 'express';
  interface Limits {
    fileSize?: number;
    files?: number;
    fields?: number;
    fieldSize?: number;
    parts?: number;
  }
  interface Multer {
    single(field: string): RequestHandler;
  }
  interface StorageEngine {
    readonly _brand?: 'storage';
  }
  function multer(options?: { storage?: StorageEngine; limits?: Limits }): Multer;
  namespace multer {
    function memoryStorage(): StorageEngine;
  }
  export default multer;
}
